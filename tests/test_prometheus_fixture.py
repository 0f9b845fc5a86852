"""The ``prometheus`` fixture scrapes a real endpoint, and its errors say what went wrong."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services import PrometheusError, PrometheusServer, free_port

pytestmark = pytest.mark.prometheus

TOKEN = "s3cret-scrape-token"


@dataclass
class Exposition:
    """What the fake metrics endpoint serves, and what it was asked."""

    value: int = 42
    token: str | None = None  # required as "Authorization: Bearer <token>" when set
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, auth)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self) -> bytes:
        return (
            "# HELP my_counter_total Things counted by the test.\n"
            "# TYPE my_counter_total counter\n"
            f"my_counter_total {self.value}\n"
        ).encode()


@contextmanager
def metrics_endpoint(exposition: Exposition) -> Iterator[str]:
    """Serve ``exposition`` on ``/metrics`` in a thread; yield ``127.0.0.1:PORT``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            authorization = self.headers.get("Authorization")
            with exposition.lock:
                exposition.requests.append((self.path, authorization))
            if self.path != "/metrics":
                self.send_error(404)
                return
            if exposition.token is not None and authorization != f"Bearer {exposition.token}":
                self.send_error(401)
                return
            body = exposition.body()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def values(prometheus: PrometheusServer, expr: str) -> dict[str, float]:
    """Evaluate ``expr``; map each series' ``job`` label to its value."""
    return {r["metric"].get("job", ""): float(r["value"][1]) for r in prometheus.query(expr)}


def test_scrapes_the_endpoint_and_queries_its_counter(prometheus: PrometheusServer) -> None:
    assert prometheus.targets() == []
    assert prometheus.query("my_counter_total") == []
    exposition = Exposition(value=42)
    with metrics_endpoint(exposition) as target:
        prometheus.scrape([target])
        prometheus.wait_for_scrapes(count=2)

        [series] = prometheus.query("my_counter_total")
        assert series["metric"] == {
            "__name__": "my_counter_total",
            "instance": target,
            "job": "app",
        }
        assert float(series["value"][1]) == 42
        assert values(prometheus, 'up{job="app"}') == {"app": 1.0}
        [state] = prometheus.targets("app")
        assert state["health"] == "up"
        assert state["scrapeUrl"] == f"http://{target}/metrics"
        with exposition.lock:
            scrapes = [auth for path, auth in exposition.requests if path == "/metrics"]
        assert len(scrapes) >= 2
        assert set(scrapes) == {None}  # no token configured, none sent

    # What the fixture does before each test: no jobs, no series left behind.
    prometheus.reset()
    assert prometheus.targets() == []
    assert prometheus.query("my_counter_total") == []
    assert prometheus.query("up") == []


def test_bearer_token_decides_whether_the_scrape_succeeds(prometheus: PrometheusServer) -> None:
    exposition = Exposition(value=7, token=TOKEN)
    with metrics_endpoint(exposition) as target:
        prometheus.scrape([target], job="anonymous")
        prometheus.scrape([target], job="wrong", bearer_token="not-" + TOKEN)
        prometheus.scrape([target], job="authorized", bearer_token=TOKEN)
        prometheus.scrape([f"127.0.0.1:{free_port()}"], job="nobody-home")

        prometheus.wait_for_scrapes("authorized", count=2)
        prometheus.wait_for_scrapes("anonymous", count=2, healthy=False)
        prometheus.wait_for_scrapes("wrong", count=2, healthy=False)

        up = values(prometheus, "up")
        assert {job: up[job] for job in ("anonymous", "wrong", "authorized")} == {
            "anonymous": 0.0,
            "wrong": 0.0,
            "authorized": 1.0,
        }
        assert values(prometheus, "my_counter_total") == {"authorized": 7.0}
        for job in ("anonymous", "wrong"):
            [state] = prometheus.targets(job)
            assert state["health"] == "down"
            assert "401" in state["lastError"], state
        with exposition.lock:
            sent = {auth for path, auth in exposition.requests if path == "/metrics"}
        assert sent == {None, f"Bearer not-{TOKEN}", f"Bearer {TOKEN}"}

        # Waiting for a healthy target that never answers times out with its error.
        with pytest.raises(PrometheusError, match=r"nobody-home.*connection refused"):
            prometheus.wait_for_scrapes("nobody-home", count=1, timeout=1.5)


@pytest.mark.parametrize("promtool", [True, False], ids=["promtool", "reload-only"])
def test_a_rejected_configuration_raises_and_keeps_the_previous_one(
    prometheus: PrometheusServer, monkeypatch: pytest.MonkeyPatch, promtool: bool
) -> None:
    if promtool:
        assert prometheus.promtool is not None  # Debian's prometheus package ships it
    else:
        monkeypatch.setattr(prometheus, "promtool", None)
    prometheus.scrape(["127.0.0.1:9"], job="kept")
    where = "promtool rejected" if promtool else "POST /-/reload .* HTTP 500"
    with pytest.raises(PrometheusError, match=f"(?s){where}.*job_name is empty"):
        prometheus.scrape(["127.0.0.1:9"], job="")
    assert prometheus.config_path is not None
    assert '"kept"' in prometheus.config_path.read_text()
    with pytest.raises(KeyError, match="no scrape job 'missing'"):
        prometheus.wait_for_scrapes("missing")
    with pytest.raises(ValueError, match="host:port, not a URL"):
        prometheus.scrape(["http://127.0.0.1:9/metrics"])


def test_a_failed_query_raises_with_prometheus_message(prometheus: PrometheusServer) -> None:
    with pytest.raises(PrometheusError, match=r"bad_data.*parse error"):
        prometheus.query("sum(")
    assert prometheus.query("1 + 1")[0]["value"][1] == "2"
