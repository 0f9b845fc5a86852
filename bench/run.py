"""Benchmark harness: serve each contender with uvicorn, load it with wrk, print a table.

Run it with ``make bench`` (``BENCH_ARGS="--quick"`` for a smoke run) or directly::

    .venv/bin/python bench/run.py [--duration S] [--connections N] [--rounds N]
                                  [--scenario NAME ...] [--json PATH] [--chart PATH]
                                  [--quick]

``--chart docs/images/benchmarks.svg`` also keeps the results it draws beside the
chart (``docs/images/benchmarks.json``); to redraw the chart after changing how it
is drawn, without measuring again::

    .venv/bin/python bench/run.py --from-json docs/images/benchmarks.json \
                                  --chart docs/images/benchmarks.svg

This is the command line; the scenarios are in ``bench/scenarios.py``, the method in
``bench/harness/measure.py`` and the layout in ``bench/harness/__init__.py``.

Exit status: 0 when the report was produced, targets missed or not (a miss is
printed as a ``MISSED TARGET`` line); 1 when a measurement could not be made or
had non-2xx/3xx responses or socket errors (the results are then invalid and
flagged), or a selected scenario needs ``redis-server`` and it is not installed; 2
when wrk is not installed; 130 on Ctrl-C (128 + the signal number on
SIGTERM or SIGHUP). Servers are stopped (their whole process group) in every case.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

# The harness and the scenarios are imported from bench/ (first on sys.path anyway for
# `python bench/run.py`, unless PYTHONSAFEPATH is set), and the test suite's server
# launchers as tests.services from the repository's root (see harness/__init__.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from harness.chart import render_chart
from harness.measure import BenchConfig, Run, environment, run_all
from harness.processes import BenchError, can_pin
from harness.report import (
    chart_data_path,
    error_lines,
    load_results,
    print_report,
    progress,
    results_json,
    summarize,
    write_outputs,
)
from harness.wrk import WRK_MISSING
from scenarios import SCENARIOS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import FrameType


def positive_int(text: str) -> int:
    """Parse a strictly positive integer for argparse.

    Args:
        text: The command-line value.

    Returns:
        The integer.

    Raises:
        argparse.ArgumentTypeError: The value is not a positive integer.
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected a positive integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv: The arguments, without the program name; ``sys.argv`` when ``None``.

    Returns:
        The parsed arguments; ``duration`` and ``rounds`` are ``None`` when not given.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=positive_int, help="seconds per measurement (8)")
    parser.add_argument(
        "--connections", type=positive_int, default=64, help="open connections wrk keeps (64)"
    )
    parser.add_argument("--rounds", type=positive_int, help="measurements per contender (5)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[scenario.name for scenario in SCENARIOS],
        help="run only this scenario (repeatable; default: all)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write raw results")
    parser.add_argument(
        "--chart",
        type=Path,
        metavar="PATH",
        help="also write the ratios as an SVG chart, and its data beside it (PATH with .json)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="PATH",
        help="measure nothing: report the results saved in PATH (by --json or --chart)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: --duration 3 --rounds 1")
    return parser.parse_args(argv)


def resolve_config(args: argparse.Namespace, wrk: str) -> BenchConfig:
    """Turn the parsed arguments into a ``BenchConfig``.

    Args:
        args: From ``parse_args``; explicit ``--duration``/``--rounds`` win over ``--quick``.
        wrk: The wrk executable.

    Returns:
        The configuration.
    """
    default_duration, default_rounds = (3, 1) if args.quick else (8, 5)
    wanted: list[str] | None = args.scenario
    return BenchConfig(
        duration=args.duration or default_duration,
        connections=args.connections,
        rounds=args.rounds or default_rounds,
        scenarios=tuple(s for s in SCENARIOS if wanted is None or s.name in wanted),
        json_path=args.json,
        chart_path=args.chart,
        wrk=wrk,
        pinned=can_pin(),
    )


def _exit_on_signal(signum: int, _frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop servers


def report(config: BenchConfig, env: Mapping[str, object], runs: Sequence[Run]) -> int:
    """Print the table, the environment and the verdicts; write the JSON if asked.

    Args:
        config: The run's settings.
        env: From ``environment``.
        runs: All measurements.

    Returns:
        The exit status: 1 when a measurement had errors, else 0.
    """
    summaries = [s for scenario in config.scenarios for s in summarize(scenario, runs)]
    print_report(env, summaries, error_lines(runs))
    status = 1 if any(r.wrk.error_count for r in runs) else 0
    data = json.dumps(results_json(env, summaries), indent=2) + "\n"
    outputs = [(config.json_path, data), (config.chart_path, render_chart(summaries))]
    if config.chart_path is not None:  # what the chart is drawn from, to redraw it later
        outputs.append((chart_data_path(config.chart_path), data))
    return max(status, write_outputs(outputs))


def report_saved(args: argparse.Namespace) -> int:
    """Print the report of saved results and write ``--chart``/``--json`` from them.

    Args:
        args: From ``parse_args``, with ``from_json`` set.

    Returns:
        The exit status: 1 when the results cannot be read, had errors (as the run
        that measured them reported), or an output cannot be written; else 0.
    """
    try:
        env, summaries = load_results(args.from_json, args.scenario)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read results from {args.from_json}: {exc!r}", file=sys.stderr)
        return 1
    print_report(env, summaries, error_lines([run for s in summaries for run in s.runs]))
    status = 1 if any(s.errors for s in summaries) else 0
    data = json.dumps(results_json(env, summaries), indent=2) + "\n"
    chart = render_chart(summaries)
    return max(status, write_outputs([(args.json, data), (args.chart, chart)]))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print the report.

    Args:
        argv: The arguments, without the program name; ``sys.argv`` when ``None``.

    Returns:
        The exit status (see the module docstring).
    """
    args = parse_args(argv)
    if args.from_json is not None:
        return report_saved(args)
    wrk = shutil.which("wrk")
    if wrk is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    config = resolve_config(args, wrk)
    env = environment(config)
    try:
        runs = run_all(config, on_run=lambda run: progress(run, config))
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return report(config, env, runs)


if __name__ == "__main__":
    sys.exit(main())
