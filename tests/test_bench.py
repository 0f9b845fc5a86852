"""The benchmark harness reads wrk correctly and explains what it needs."""

from __future__ import annotations

import dataclasses
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree

import pytest

from services import require_redis_server

ROOT = Path(__file__).resolve().parent.parent

WRK_REPORT = """\
Running 8s test @ http://127.0.0.1:41234/healthz
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.71ms    2.03ms  48.11ms   91.20%
    Req/Sec     6.01k   310.52     6.51k    80.00%
  Latency Distribution
     50%   10.40ms
     75%   11.02ms
     90%   12.15ms
     99%    1.02s
  47854 requests in 8.00s, 7.21MB read
  Socket errors: connect 0, read 2, write 0, timeout 5
  Non-2xx or 3xx responses: 3
Requests/sec:   5981.26
Transfer/sec:    0.90MB
"""


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """The harness (``bench/harness``), imported the way ``bench/run.py`` imports it."""
    paths = [str(ROOT / "bench"), str(ROOT)]  # for `harness` and `scenarios`; `tests.services`
    sys.path[:0] = paths
    try:
        yield importlib.import_module("harness")
    finally:
        for path in paths:
            sys.path.remove(path)


def test_wrk_report_is_parsed_with_units_and_errors(bench: ModuleType) -> None:
    result = bench.parse_wrk(WRK_REPORT)
    assert result.requests_per_s == 5981.26
    assert result.requests == 47854
    assert result.latency_ms == {"50": 10.4, "75": 11.02, "90": 12.15, "99": 1020.0}
    assert result.non_2xx_3xx == 3
    assert result.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 5}
    assert result.error_count == 10


def test_a_clean_report_has_no_errors(bench: ModuleType) -> None:
    clean = "\n".join(
        line for line in WRK_REPORT.splitlines() if "errors" not in line and "Non-2xx" not in line
    )
    assert bench.parse_wrk(clean).error_count == 0


def test_an_unreadable_report_is_an_error(bench: ModuleType) -> None:
    with pytest.raises(bench.BenchError, match="cannot parse"):
        bench.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_missing_wrk_says_how_to_install_it() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
        env={"PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "apt-get install -y wrk" in result.stderr


def test_informational_contenders_are_reported_without_a_target(bench: ModuleType) -> None:
    def contender(key: str) -> object:
        return bench.Contender(key=key, label=key, app="health_bare:app")

    scenario = bench.Scenario(
        name="s",
        title="s",
        baseline=contender("base"),
        candidates=(contender("fast"),),
        target_ratio=3.0,
        informational=(contender("slow"),),
    )
    result = bench.parse_wrk(
        "\n".join(line for line in WRK_REPORT.splitlines() if "errors" not in line)
    )
    rates = {"base": 1000.0, "fast": 2000.0, "slow": 500.0}
    runs = [
        bench.Run(
            "s", key, 1, dataclasses.replace(result, requests_per_s=rps, non_2xx_3xx=0), 0, 1.0
        )
        for key, rps in rates.items()
    ]
    base, fast, slow = bench.summarize(scenario, runs)
    assert [bench.target_cell(s) for s in (base, fast, slow)] == [
        "",
        ">= 3.00 ✗",
        "(for information)",
    ]
    assert (fast.ratio, slow.ratio) == (2.0, 0.5)
    assert bench.verdict_lines([base, fast, slow]) == [
        "MISSED TARGET: s: fast at 2.000 of base (target >= 3.0)"
    ]

    chart = ElementTree.fromstring(bench.render_chart([base, fast, slow]))  # noqa: S314  # ours
    bars = chart.findall("{http://www.w3.org/2000/svg}rect")
    texts = [text.text for text in chart.iter("{http://www.w3.org/2000/svg}text")]
    assert len(bars) == 2  # the baseline is the 1.0 line, not a bar
    assert float(bars[0].get("width", 0)) == pytest.approx(
        4 * float(bars[1].get("width", 0)), rel=0.01
    )
    assert bars[0].get("fill") == "#c0392b"  # missed its target
    assert {"s: fast", "s: slow", "2.00", "0.50", "1.0 = baseline"} <= set(texts)


def test_the_harness_redis_runs_for_the_block_only(bench: ModuleType) -> None:
    require_redis_server()
    with bench.redis_server(pinned=False) as url:
        assert bench.redis_answers(url)
        bench.flush_redis(url)
    assert not bench.redis_answers(url)


def test_missing_redis_server_says_how_to_install_it(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    with (
        pytest.raises(bench.BenchError, match="apt-get install -y redis-server"),
        bench.redis_server(pinned=False),
    ):
        pass


def test_the_example_app_contender_starts_with_its_data() -> None:
    # The app prepares its database when imported; a failure there must stop it,
    # not leave a server answering 404 to every measured request.
    code = (
        "import sqlite3, todo_example\n"
        "with sqlite3.connect(todo_example.DATABASE) as db:\n"
        "    print(db.execute('SELECT count(*) FROM todos WHERE owner_id = 1').fetchone()[0])\n"
    )
    paths = f"{ROOT / 'examples'}:{ROOT / 'bench' / 'apps'}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": paths},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "20"


def test_the_plain_opentelemetry_contender_traces_requests_and_statements() -> None:
    # The comparison measures OpenTelemetry's own instrumentations at work: a server
    # span from the FastAPI one, statement spans from the SQLAlchemy one.
    code = """
import todo_plain_otel  # first, as uvicorn imports it: before the kit's modules

import asyncio
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from fastapi_kit.testing import app_client

spans = InMemorySpanExporter()
todo_plain_otel.provider.add_span_processor(SimpleSpanProcessor(spans))

async def main():
    async with app_client(todo_plain_otel.app) as client:
        token = (await client.get("/bench-token")).text
        todo = await client.get("/api/v1/todos/1", headers={"Authorization": f"Bearer {token}"})
        assert todo.status_code == 200, todo.text

asyncio.run(main())
names = {span.name for span in spans.get_finished_spans()}
print("GET /api/v1/todos/{todo_id}" in names, any(n.startswith("SELECT") for n in names))
"""
    paths = f"{ROOT / 'examples'}:{ROOT / 'bench' / 'apps'}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": paths, "OTEL_TRACES_SAMPLER": "always_on"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["True", "True"]
