"""The Grafana dashboard: its structure, its queries on a real Prometheus, its picture."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import sign_up_and_in
from services import PrometheusServer

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "fastapi-kit.json"
SCRIPT = ROOT / "bench" / "dashboard" / "make_picture.py"
DATA = ROOT / "bench" / "dashboard" / "data.json"
PICTURE = ROOT / "docs" / "images" / "monitoring-dashboard.svg"
PASSWORD = "correct horse battery"
#: The panels whose main query must find series after some traffic, and that target.
MUST_HAVE_SERIES = {
    "Request rate per route": "A",
    "Latency p50 / p95 / p99 per route": "C",  # p99
    "Cache hit ratio": "A",
    "DB pool connections": "A",
    "DB pool saturation": "A",
}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def substitute(expr: str, rate_interval: str = "1m") -> str:
    """What Grafana sends with "All" selected: ``.*`` for ``$job`` and ``$route``."""
    return (
        expr.replace("$__rate_interval", rate_interval)
        .replace("$job", ".*")
        .replace("$route", ".*")
    )


def test_the_dashboard_has_its_variables_and_every_panel_a_query() -> None:
    board = dashboard()
    assert board["schemaVersion"] >= 36
    assert [entry["name"] for entry in board["__inputs"]] == ["DS_PROMETHEUS"]
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["job"]["definition"] == "label_values(http_requests_total, job)"
    assert variables["route"]["definition"] == (
        'label_values(http_requests_total{job=~"$job"}, route)'
    )
    panels = board["panels"]
    assert len(panels) >= 8
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert "$" not in substitute(target["expr"]), target["expr"]
    expressions = " ".join(t["expr"] for p in panels for t in p["targets"])
    for metric in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "http_requests_in_progress",
        "fastapi_kit_cache_requests_total",
        "fastapi_kit_rate_limited_total",
        "fastapi_kit_auth_failures_total",
        "fastapi_kit_db_pool_connections",
    ):
        assert metric in expressions


def test_the_picture_is_redrawn_byte_for_byte_from_the_saved_data(tmp_path: Path) -> None:
    drawn = tmp_path / "dashboard.svg"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--from-json", str(DATA), "--svg", str(drawn)],
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert drawn.read_bytes() == PICTURE.read_bytes()


def test_the_saved_data_answers_the_dashboards_own_queries() -> None:
    """The committed data was made from the committed dashboard (titles, queries)."""
    data = json.loads(DATA.read_text())
    saved = [(p["title"], [t["expr"] for t in p["targets"]]) for p in data["panels"]]
    expected = [
        (p["title"], [substitute(t["expr"], data["rate_interval"]) for t in p["targets"]])
        for p in dashboard()["panels"]
    ]
    assert saved == expected
    assert all(
        t["series"] for title, ref in MUST_HAVE_SERIES.items() for t in _target(data, title, ref)
    )


def _target(data: dict[str, Any], title: str, ref: str) -> list[dict[str, Any]]:
    [panel] = [p for p in data["panels"] if p["title"] == title]
    return [panel["targets"][ord(ref) - ord("A")]]


def test_the_picture_has_no_external_reference() -> None:
    svg = PICTURE.read_text()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    rest = svg.replace('xmlns="http://www.w3.org/2000/svg"', "", 1)
    for needle in ("http:", "https:", "href", "url(", "<image", "@import", "<script", "<foreign"):
        assert needle not in rest, needle
    assert re.search(r"font-family=\"[^\"]*sans-serif\"", svg)


@pytest.fixture
def example(served_example: Callable[..., str]) -> str:
    """The example app under ``uvicorn --workers 2``, its metrics open."""
    return served_example()


def traffic(client: httpx.Client, base: str, todo_id: int) -> None:
    """Reads (cache hits), a 404, an unknown path, a 401: on new connections."""
    close = {"connection": "close"}  # new connections: both workers answer
    for _ in range(10):
        assert client.get("/todos", headers=close).status_code == 200
        assert client.get(f"/todos/{todo_id}", headers=close).status_code == 200
    assert client.get("/todos/999999").status_code == 404
    assert httpx.get(f"http://{base}/wp-admin/setup.php").status_code == 404
    assert httpx.get(f"http://{base}/api/v1/todos").status_code == 401


@pytest.mark.prometheus
def test_every_panel_query_runs_on_prometheus_and_the_main_ones_find_series(
    prometheus: PrometheusServer, example: str
) -> None:
    prometheus.scrape([example], job="todo")
    prometheus.wait_for_scrapes("todo", count=1)
    with httpx.Client(base_url=f"http://{example}/api/v1") as client:
        sign_up_and_in(client, "ada@example.com", PASSWORD)
        todo = client.post("/todos", json={"title": "Plot me"}).json()
        traffic(client, example, todo["id"])  # two bursts, a scrape between them:
        prometheus.wait_for_scrapes("todo", count=2)  # rate() sees an increase
        traffic(client, example, todo["id"])
    prometheus.wait_for_scrapes("todo", count=4)

    board = dashboard()
    for variable in ("job", "route"):  # label_values(...) as PromQL: the series exist
        found = prometheus.query(f"count by ({variable}) (http_requests_total)")
        assert found, variable
    for panel in board["panels"]:
        for target in panel["targets"]:
            expr = substitute(target["expr"])
            result = prometheus.query(expr)  # raises unless status is success
            wanted = MUST_HAVE_SERIES.get(panel["title"])
            if wanted == target["refId"]:
                assert result, f"{panel['title']}: no series for {expr}"
    routes = {
        s["metric"]["route"]
        for s in prometheus.query(substitute(_expr(board, "Request rate per route")))
    }
    assert {"/api/v1/todos", "/api/v1/todos/{todo_id}"} <= routes
    [ratio] = prometheus.query(substitute(_expr(board, "Cache hit ratio")))
    assert 0 < float(ratio["value"][1]) <= 1


def _expr(board: dict[str, Any], title: str) -> str:
    [panel] = [p for p in board["panels"] if p["title"] == title]
    expr: str = panel["targets"][0]["expr"]
    return expr
