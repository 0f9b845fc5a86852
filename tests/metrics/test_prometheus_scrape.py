"""A real Prometheus scrapes the example app under two workers and answers a dashboard."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from helpers import sign_up_and_in
from services import PrometheusServer

TOKEN = "scrape-token-for-the-tests"
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.prometheus


@pytest.fixture
def example(served_example: Callable[..., str]) -> str:
    """The example app under ``uvicorn --workers 2``, its metrics behind ``TOKEN``."""
    return served_example(METRICS_TOKEN=TOKEN)


def value(prometheus: PrometheusServer, expr: str) -> float:
    [result] = prometheus.query(expr)
    return float(result["value"][1])


def test_prometheus_scrapes_exact_counts_with_the_labels_a_dashboard_needs(
    prometheus: PrometheusServer, example: str
) -> None:
    prometheus.scrape([example], job="todo", bearer_token=TOKEN)
    prometheus.wait_for_scrapes("todo", count=1)  # a first sample, before the traffic
    with httpx.Client(base_url=f"http://{example}/api/v1") as client:
        sign_up_and_in(client, "ada@example.com", PASSWORD)
        todo = client.post("/todos", json={"title": "Scrape me"}).json()
        for burst in range(2):  # a series exists from its first request: two bursts,
            for _ in range(30):  # a scrape between them, give rate() an increase
                got = client.get(f"/todos/{todo['id']}", headers={"connection": "close"})
                assert got.status_code == 200  # new connections: both workers answer
            if burst == 0:
                prometheus.wait_for_scrapes("todo", count=2)
        for _ in range(20):
            assert client.get("/todos", headers={"connection": "close"}).status_code == 200
        assert client.get("/todos/999999").status_code == 404
        assert httpx.get(f"http://{example}/wp-admin/setup.php").status_code == 404
    prometheus.wait_for_scrapes("todo", count=4)  # two more, after all of it

    route = 'route="/api/v1/todos/{todo_id}"'
    assert value(prometheus, f'sum(http_requests_total{{{route},status="200"}})') == 60
    assert value(prometheus, f'sum(http_requests_total{{{route},status="404"}})') == 1
    assert value(prometheus, 'sum(http_requests_total{route="<unmatched>"})') == 1
    # What the dashboard plots: a rate and a latency percentile per route.
    rates = prometheus.query("sum by (route) (rate(http_requests_total[1m]))")
    assert {"/api/v1/todos/{todo_id}", "/api/v1/todos", "/api/v1/auth/token"} <= {
        series["metric"]["route"] for series in rates
    }
    p99 = value(
        prometheus,
        f"histogram_quantile(0.99, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{route}}}[1m])))",
    )
    assert 0 < p99 < 10
    hits = value(prometheus, 'sum(fastapi_kit_cache_requests_total{result="hit"})')
    misses = value(prometheus, 'sum(fastapi_kit_cache_requests_total{result="miss"})')
    # Each worker's memory cache computes the list once, then serves it.
    assert hits + misses == 20
    assert 1 <= misses <= 2
    assert value(prometheus, 'up{job="todo"}') == 1


def test_a_scrape_without_the_token_is_refused(prometheus: PrometheusServer, example: str) -> None:
    prometheus.scrape([example], job="nosy")
    prometheus.wait_for_scrapes("nosy", count=1, healthy=False)
    [target] = prometheus.targets("nosy")
    assert target["health"] == "down"
    assert "401" in target["lastError"]
