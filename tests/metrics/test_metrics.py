"""The metrics: labels a dashboard can use, bounded; the token; the kit's own counters."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from prometheus_client.parser import text_string_to_metric_families

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import CurrentUser
from fastapi_kit.cache import cached
from fastapi_kit.metrics import Metrics, install_metrics
from fastapi_kit.ratelimit import limit
from fastapi_kit.testing import app_client
from helpers import LogCapture, served_by_uvicorn
from services.common import free_port

SECRET = "metrics-test-secret-0123456789-abcdef"


def make_app(**settings: Any) -> tuple[FastAPI, Kit]:
    kit = Kit(KitSettings(secret_key=SECRET, gc_freeze=False, **settings))
    auth = kit.use_auth(claims_only=True)
    kit.use_cache()
    kit.use_rate_limit()
    app = FastAPI()
    api = APIRouter(prefix="/api/v1")
    items = APIRouter(prefix="/items")

    @items.get("/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @items.get("")
    @cached(ttl=60)
    async def listing(user: CurrentUser) -> dict[str, str]:
        return {"owner": str(user.id)}

    @items.post("/limited", dependencies=[Depends(limit("1/minute"))])
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    api.include_router(items)
    app.include_router(api)
    kit.install(app)
    app.state.token = auth.tokens.issue_pair("7", ["user"]).access_token
    return app, kit


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of metric family ``name`` in an exposition, by their labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app, _ = make_app()
    async with app_client(app) as client:
        client.headers["authorization"] = f"Bearer {app.state.token}"
        yield client


async def test_requests_are_counted_by_method_route_template_and_status(
    client: httpx.AsyncClient,
) -> None:
    for item_id in (1, 2, 3):
        assert (await client.get(f"/api/v1/items/{item_id}")).status_code == 200
    assert (await client.get("/api/v1/items/not-a-number")).status_code == 422
    assert (await client.get("/no/such/path")).status_code == 404
    assert (await client.request("BREW", "/api/v1/items/1")).status_code == 405
    text = (await client.get("/metrics")).text
    counts = samples(text, "http_requests_total")
    assert counts[(("method", "GET"), ("route", "/api/v1/items/{item_id}"), ("status", "200"))] == 3
    assert counts[(("method", "GET"), ("route", "/api/v1/items/{item_id}"), ("status", "422"))] == 1
    assert counts[(("method", "GET"), ("route", "<unmatched>"), ("status", "404"))] == 1
    assert (
        counts[(("method", "OTHER"), ("route", "/api/v1/items/{item_id}"), ("status", "405"))] == 1
    )
    durations = samples(text, "http_request_duration_seconds_count")
    assert durations[(("method", "GET"), ("route", "/api/v1/items/{item_id}"))] == 4
    # The scrape itself is in progress while it is answered.
    assert samples(text, "http_requests_in_progress")[(("method", "GET"),)] == 1


async def test_a_thousand_ids_and_a_thousand_unknown_paths_add_no_label_values(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/api/v1/items/0")
    await client.get("/unknown/0")
    before = samples((await client.get("/metrics")).text, "http_requests_total")
    for n in range(1, 1001):
        await client.get(f"/api/v1/items/{n}")
        await client.get(f"/unknown/{n}")
    after = samples((await client.get("/metrics")).text, "http_requests_total")
    new = set(after) - set(before)
    # Only the scrape's own series may be new (the first scrape was in progress).
    assert all(dict(labels)["route"] == "/metrics" for labels in new), new
    item = (("method", "GET"), ("route", "/api/v1/items/{item_id}"), ("status", "200"))
    unmatched = (("method", "GET"), ("route", "<unmatched>"), ("status", "404"))
    assert (after[item] - before[item], after[unmatched] - before[unmatched]) == (1000, 1000)


async def test_the_kits_own_counters(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.get("/api/v1/items")  # a miss, then hits
    assert (await client.post("/api/v1/items/limited")).status_code == 200
    assert (await client.post("/api/v1/items/limited")).status_code == 429
    anonymous = {"authorization": ""}
    assert (await client.get("/api/v1/items", headers=anonymous)).status_code == 401
    forged = {"authorization": "Bearer not.a.token"}
    assert (await client.get("/api/v1/items", headers=forged)).status_code == 401
    text = (await client.get("/metrics")).text
    assert samples(text, "fastapi_kit_cache_requests_total") == {
        (("result", "miss"),): 1,
        (("result", "hit"),): 2,
    }
    assert samples(text, "fastapi_kit_rate_limited_total") == {(): 1}
    assert samples(text, "fastapi_kit_auth_failures_total") == {
        (("code", "not_authenticated"),): 1,
        (("code", "invalid_token"),): 1,
    }


async def test_the_pool_gauge_follows_the_database(tmp_path: Path) -> None:
    _, kit = make_app(database_url=f"postgresql+asyncpg://kit@127.0.0.1:{free_port()}/x")
    assert kit.database is not None
    kit.metrics.watch_pool(kit.database.engine)  # type: ignore[union-attr]
    text = kit.metrics.exposition()[0].decode()  # type: ignore[union-attr]
    gauges = samples(text, "fastapi_kit_db_pool_connections")
    assert gauges == {(("state", "checked_out"),): 0, (("state", "idle"),): 0}


@pytest.mark.postgres
async def test_the_pool_gauge_counts_checked_out_connections(postgres_url: str) -> None:
    app, kit = make_app(database_url=postgres_url)
    database = kit.database
    metrics = kit.metrics
    assert database is not None
    assert metrics is not None
    async with app_client(app):
        async with database.engine.connect(), database.engine.connect():
            held = samples(metrics.exposition()[0].decode(), "fastapi_kit_db_pool_connections")
        released = samples(metrics.exposition()[0].decode(), "fastapi_kit_db_pool_connections")
    assert held[(("state", "checked_out"),)] == 2
    assert released[(("state", "checked_out"),)] == 0
    assert released[(("state", "idle"),)] == 2


async def test_metrics_token_and_what_the_route_is_not() -> None:
    app, _ = make_app(metrics_token="scrape-secret", rate_limit_default="1/minute")
    async with app_client(app) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert wrong.headers["content-type"] == "application/problem+json"
        good = {"authorization": "Bearer scrape-secret"}
        answers = [await client.get("/metrics", headers=good) for _ in range(5)]
        assert {a.status_code for a in answers} == {200}  # never rate limited
        assert {a.headers["cache-control"] for a in answers} == {"no-store"}
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


async def test_metrics_can_be_switched_off() -> None:
    app, kit = make_app(metrics_enabled=False)
    assert kit.metrics is None
    async with app_client(app) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_excluded_paths_are_neither_logged_nor_counted() -> None:
    app, _ = make_app(access_log_exclude="/healthz,/metrics")
    logs = LogCapture()
    async with app_client(app) as client:
        await client.get("/healthz")
        await client.get("/api/v1/items/1")
        text = (await client.get("/metrics")).text
    routes = {dict(labels)["route"] for labels in samples(text, "http_requests_total")}
    assert routes == {"/api/v1/items/{item_id}"}
    assert [e["path"] for e in logs.named("http_request")] == ["/api/v1/items/1"]


# --- several workers -------------------------------------------------------------------


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The served app under ``uvicorn --workers 2``, sharing a multiprocess directory."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "SECRET_KEY": SECRET,
        "RATE_LIMIT_DEFAULT": "100000/minute",
    }
    app_dir = Path(__file__).parent
    with served_by_uvicorn("served_app:app", app_dir=app_dir, env=env, workers=2) as address:
        yield f"http://{address}", directory


def test_counts_are_exact_across_two_workers(two_workers: tuple[str, Path]) -> None:
    base, directory = two_workers
    with httpx.Client(base_url=base) as client:
        for n in range(300):
            response = client.get(f"/api/items/{n}", headers={"connection": "close"})
            assert response.status_code == 200
        for _ in range(10):  # whichever worker answers the scrape
            text = client.get("/metrics", headers={"connection": "close"}).text
            counts = samples(text, "http_requests_total")
            key = (("method", "GET"), ("route", "/api/items/{item_id}"), ("status", "200"))
            assert counts[key] == 300
    pids = {
        int(m[1]) for m in (re.search(r"_(\d+)\.db$", p.name) for p in directory.iterdir()) if m
    }
    assert len(pids) >= 2  # both workers wrote their values


async def metrics_route(metrics: Metrics) -> bytes:
    """``GET /metrics`` of an app serving ``metrics``."""
    app = FastAPI()
    install_metrics(app, metrics)
    async with app_client(app) as client:
        return (await client.get("/metrics")).content


async def test_a_dead_workers_in_progress_gauge_is_cleaned_up(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    # A worker that counts a request in progress, then dies without cleaning up.
    code = (
        "import os\n"
        "from fastapi_kit.metrics import Metrics\n"
        "m = Metrics()\n"
        "m.in_progress.labels('GET').inc()\n"
        "m.requests.labels('GET', '/x', '200').inc()\n"
        "os._exit(0)\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    await asyncio.to_thread(subprocess.run, [sys.executable, "-c", code], env=env, check=True)
    live = [p.name for p in directory.iterdir() if p.name.startswith("gauge_live")]
    assert len(live) == 1
    # A new worker's metrics: the lifespan cleans up, the exposition sums the files.
    metrics = Metrics(multiprocess_dir=str(directory))
    async with metrics.lifespan():
        shown = (await metrics_route(metrics)).decode()
    assert [p.name for p in directory.iterdir() if p.name.startswith("gauge_live")] == []
    assert samples(shown, "http_requests_in_progress") == {}  # the dead one's request is gone
    counts = samples(shown, "http_requests_total")
    assert counts[(("method", "GET"), ("route", "/x"), ("status", "200"))] == 1  # still counted
