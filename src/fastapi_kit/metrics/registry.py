"""``Metrics``: the RED metrics of HTTP requests and the kit's own, on prometheus-client."""

from __future__ import annotations

import os
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from fastapi_kit.context import published

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ("MULTIPROCESS_DIR_VARIABLE", "UNMATCHED", "Metrics")

#: prometheus-client's variable: set, every worker writes its values to files there.
MULTIPROCESS_DIR_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
#: The ``route`` of a request no route matched (404s of unknown paths, scanners).
UNMATCHED: Final = "<unmatched>"
# The files prometheus-client's live gauges write, per process: ``gauge_livesum_123.db``.
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


class Metrics:
    """The app's metrics, exposed at ``GET /metrics`` in Prometheus' text format.

    HTTP (by [`MetricsMiddleware`][fastapi_kit.metrics.MetricsMiddleware]):
    ``http_requests_total{method,route,status}``,
    ``http_request_duration_seconds{method,route}``,
    ``http_requests_in_progress{method}``. The kit's own:
    ``fastapi_kit_cache_requests_total{result}``, ``fastapi_kit_rate_limited_total``,
    ``fastapi_kit_auth_failures_total{code}``,
    ``fastapi_kit_db_pool_connections{state}``,
    ``fastapi_kit_redis_errors_total{block}`` (through the blocks' ``on_failure``:
    [`redis_failure`][fastapi_kit.metrics.Metrics.redis_failure]),
    ``fastapi_kit_mail_queue_depth`` (through ``SMTPMailSender``'s ``on_queue_change``).

    With ``PROMETHEUS_MULTIPROC_DIR`` set (before the app's processes start, and
    emptied before each start of the service), every worker of ``uvicorn --workers N``
    writes its values there and ``/metrics``, whichever worker answers, reports the
    sum: counts are exact across workers. A worker that starts removes the live
    gauge files of workers that are gone (their requests are no longer in
    progress); counters of dead workers stay counted.

    Args:
        multiprocess_dir: The multiprocess directory; ``PROMETHEUS_MULTIPROC_DIR``
            when ``None``. prometheus-client reads the variable when it is
            imported: set it in the environment of the service, not from code.
        buckets: The duration histogram's buckets, in seconds.
    """

    def __init__(
        self,
        *,
        multiprocess_dir: str | None = None,
        buckets: tuple[float, ...] = Histogram.DEFAULT_BUCKETS,
    ) -> None:
        directory = multiprocess_dir or os.environ.get(MULTIPROCESS_DIR_VARIABLE)
        self.multiprocess_dir = Path(directory) if directory else None
        #: Where the metrics are registered (one registry per ``Metrics``: two apps
        #: in one process do not collide).
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=buckets,
            registry=registry,
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being answered, by method.",
            ["method"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.cache_requests = Counter(
            "fastapi_kit_cache_requests",
            "Cached routes' answers: hit, miss or bypass (the backend failed).",
            ["result"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "fastapi_kit_rate_limited",
            "Requests refused by a rate limit (429).",
            registry=registry,
        )
        self.auth_failures = Counter(
            "fastapi_kit_auth_failures",
            "Requests refused by authentication or authorization, by problem code.",
            ["code"],
            registry=registry,
        )
        self.pool_connections = Gauge(
            "fastapi_kit_db_pool_connections",
            "Database pool connections, by state: checked_out (in use), idle.",
            ["state"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.redis_errors = Counter(
            "fastapi_kit_redis_errors",
            "Redis calls that failed (after their retry), by the block that made them.",
            ["block"],
            registry=registry,
        )
        self.mail_queue = Gauge(
            "fastapi_kit_mail_queue_depth",
            "Mails waiting for delivery.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self._logger = structlog.get_logger("fastapi_kit.metrics")

    def exposition(self) -> tuple[bytes, str]:
        """The current values in Prometheus' text format, and its content type."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]  # untyped in prometheus-client
        return generate_latest(collected), CONTENT_TYPE_LATEST

    def watch_pool(self, engine: AsyncEngine) -> None:
        """Keep ``fastapi_kit_db_pool_connections`` up to date from ``engine``'s pool.

        Counted from the pool's events (a connection opened, closed, checked out,
        checked in): no work at scrape time, exact, and summed over workers.
        ``checked_out`` are in use; ``idle`` are open and waiting in the pool.
        """
        from sqlalchemy import event  # the database block's dependency: imported on use

        pool = engine.sync_engine.pool
        checked_out, idle = (
            self.pool_connections.labels("checked_out"),
            self.pool_connections.labels("idle"),
        )
        counts = {"open": 0, "checked_out": 0}

        def moved(opened: int = 0, taken: int = 0) -> None:
            counts["open"] += opened
            counts["checked_out"] += taken
            checked_out.set(counts["checked_out"])
            idle.set(counts["open"] - counts["checked_out"])

        event.listen(pool, "connect", lambda *_: moved(opened=1))
        event.listen(pool, "close", lambda *_: moved(opened=-1))
        event.listen(pool, "close_detached", lambda *_: moved(opened=-1))
        event.listen(pool, "checkout", lambda *_: moved(taken=1))
        event.listen(pool, "checkin", lambda *_: moved(taken=-1))
        moved()

    def redis_failure(self, block: str) -> Callable[[BaseException], None]:
        """A block's ``on_failure`` hook: counts its failed Redis calls under ``block``.

        For example ``RedisCache(redis, on_failure=metrics.redis_failure("cache"))``;
        ``Kit`` wires its cache (``cache``), rate limiter (``rate_limit``) and
        revocation store (``revocation``) this way.
        """
        counter = self.redis_errors.labels(block)

        def count(_error: BaseException) -> None:
            counter.inc()

        return count

    def clean_dead_workers(self) -> None:
        """Remove the live gauge files of processes that no longer run.

        prometheus-client's ``mark_process_dead`` for every such process: a worker
        that died (or was replaced) no longer counts in ``http_requests_in_progress``.
        """
        directory = self.multiprocess_dir
        if directory is None:
            return
        dead = set()
        for path in directory.glob("gauge_live*.db"):
            found = _LIVE_GAUGE_FILE.match(path.name)
            if found is not None and not _alive(int(found[1])):
                dead.add(int(found[1]))
        for pid in dead:
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
        if dead:
            self._logger.info("metrics_dead_workers_cleaned", workers=len(dead))

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, object]]:
        """Clean dead workers' files at start; at shutdown, this worker's own."""
        self.clean_dead_workers()
        try:
            yield published(Metrics, self)
        finally:
            if self.multiprocess_dir is not None:
                multiprocess.mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True
