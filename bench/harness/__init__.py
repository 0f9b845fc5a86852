"""The benchmark harness: it serves each contender, loads it with wrk and reports.

``bench/`` is shaped like the work:

* ``bench/scenarios.py``: what is compared, the place to edit (contenders and their
  scenarios; the apps they serve are in ``bench/apps/``, the wrk Lua scripts in
  ``bench/``);
* ``bench/run.py``: the command line (``make bench``; flags, exit status, ``--from-json``);
* this package, the harness, one small module a job:

  * ``measure``: the method: a fresh server per measurement, warm-up, load, CPU time;
  * ``processes``: starting and stopping the uvicorn servers and the Redis, pinning;
  * ``wrk``: running wrk and parsing its report;
  * ``report``: medians, verdicts, the table and the saved results (JSON);
  * ``chart``: the SVG chart of the ratios.

Imports: ``bench/run.py`` puts ``bench/`` and the repository's root on ``sys.path``,
so the harness is ``harness`` and the scenarios ``scenarios`` (``bench/`` is not a
package: the apps in ``bench/apps/`` are top-level modules, for uvicorn and mypy alike).
The Redis server, free ports and log tails are not copied here: they are the test
suite's launchers, the package ``tests/services``, imported as ``tests.services`` from
the root. mypy, run from the root on ``bench``, finds them the same way (it searches
the working directory); as ``services``, with ``tests/`` on ``sys.path``, it would not
(``tests`` is not in the configured ``mypy_path``). They use the standard library
only: the benchmark does not need pytest.

The names the harness's tests use are re-exported here.
"""

from scenarios import Contender, Scenario

from .chart import render_chart
from .measure import BenchConfig, Run, measure, run_all
from .processes import BenchError, flush_redis, redis_answers, redis_server, running_server
from .report import Summary, render_table, summarize, target_cell, verdict_lines
from .wrk import WrkResult, parse_wrk, run_wrk

__all__ = (
    "BenchConfig",
    "BenchError",
    "Contender",
    "Run",
    "Scenario",
    "Summary",
    "WrkResult",
    "flush_redis",
    "measure",
    "parse_wrk",
    "redis_answers",
    "redis_server",
    "render_chart",
    "render_table",
    "run_all",
    "run_wrk",
    "running_server",
    "summarize",
    "target_cell",
    "verdict_lines",
)
