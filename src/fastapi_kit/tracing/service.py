"""``Tracing``: the tracer provider of the standard OpenTelemetry variables, and what it traces."""

from __future__ import annotations

import weakref
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncEngine

from fastapi_kit._extras import optional_extra
from fastapi_kit.tracing.exporters import span_exporters_from_env
from fastapi_kit.tracing.statements import trace_statements

with optional_extra("otel"):
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer
    from redis.asyncio import Redis
    from sqlalchemy.engine import Engine

__all__ = ("Tracing",)

#: The instrumentation scope of the kit's server spans.
TRACER_NAME = "fastapi_kit"
# The scope of the statements' spans.
_SQL_TRACER = "fastapi_kit.sql"


class Tracing:
    """OpenTelemetry tracing for one app: a tracer provider and the clients it traces.

    For example:

    ```python
    tracing = Tracing()  # from OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER, ...
    tracing.instrument_sqlalchemy(database.engine)
    app = FastAPI(lifespan=tracing.lifespan)
    app.add_middleware(TracingMiddleware, tracing=tracing)
    ```

    By default the provider is built from the standard variables, as the SDK reads
    them: the resource from ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``
    (``Resource.create()``), the sampler from ``OTEL_TRACES_SAMPLER`` and
    ``OTEL_TRACES_SAMPLER_ARG`` (parent-based always-on by default), span limits from
    ``OTEL_SPAN_*``, and one ``BatchSpanProcessor`` (``OTEL_BSP_*``) per exporter of
    ``OTEL_TRACES_EXPORTER`` (see ``span_exporters_from_env``). Batching holds for
    ``console`` too: a request never waits for an exporter's I/O. ``OTEL_SDK_DISABLED=true``
    turns every span into a no-op. Propagation follows ``OTEL_PROPAGATORS`` (W3C
    ``traceparent``/``tracestate`` and baggage by default).

    The provider is never made the process's global one: the kit's middleware and the
    instrumented clients are handed it. So FastAPI's own telemetry, which starts when
    a global provider is set, stays off and no request gets two server spans.

    Args:
        tracer_provider: A provider of your own (tests: one with a ``SimpleSpanProcessor``
            over an ``InMemorySpanExporter``). It is flushed at shutdown, not shut down:
            it is yours.
        span_exporter: Export to this exporter (batched) instead of the ones the
            environment names.
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        span_exporter: SpanExporter | None = None,
    ) -> None:
        if tracer_provider is not None and span_exporter is not None:
            msg = "pass tracer_provider or span_exporter, not both"
            raise ValueError(msg)
        self._owns_provider = tracer_provider is None
        if tracer_provider is None:
            # shutdown_on_exit: an app run without its lifespan still flushes at exit.
            tracer_provider = TracerProvider(resource=Resource.create())
            exporters = [span_exporter] if span_exporter is not None else span_exporters_from_env()
            for exporter in exporters:
                tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
        #: The provider every span of the app comes from.
        self.tracer_provider = tracer_provider
        #: The tracer of the kit's server spans.
        self.tracer: Tracer = tracer_provider.get_tracer(TRACER_NAME)
        self._traced: weakref.WeakSet[Any] = weakref.WeakSet()

    def instrument_sqlalchemy(self, engine: AsyncEngine | Engine) -> None:
        """Trace every statement ``engine`` runs inside a request as a client span.

        The kit's own listener
        ([`trace_statements`][fastapi_kit.tracing.statements.trace_statements]) on this
        engine's dialect (an ``AsyncEngine``'s ``sync_engine``'s, which its
        ``execution_options()`` copies share): it costs nothing
        outside a recording span, where OpenTelemetry's SQLAlchemy instrumentation
        measured about 110 µs a request. Statements are recorded with their
        placeholders, never their parameters. Calling it again for the same engine
        does nothing.
        """
        sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        if sync_engine.dialect in self._traced:  # shared by its execution_options() copies
            return
        trace_statements(sync_engine, self.tracer_provider.get_tracer(_SQL_TRACER))
        self._traced.add(sync_engine.dialect)

    def instrument_redis(self, client: Redis) -> None:
        """Trace every command ``client`` sends as a client span (``GET``, ``EVALSHA``).

        Uses ``RedisInstrumentor.instrument_client`` of
        ``opentelemetry-instrumentation-redis`` with this provider: only this client is
        traced, and commands are recorded without their arguments (``SET ? ?``).
        Calling it again for the same client does nothing.
        """
        with optional_extra("otel"):
            from opentelemetry.instrumentation.redis import RedisInstrumentor

        if client in self._traced:
            return
        RedisInstrumentor.instrument_client(client, tracer_provider=self.tracer_provider)
        self._traced.add(client)

    def shutdown(self) -> None:
        """Export the spans still pending; shut the provider down if this made it."""
        if self._owns_provider:
            self.tracer_provider.shutdown()
        else:
            self.tracer_provider.force_flush()

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        """Run the app, then [`shutdown`][fastapi_kit.tracing.Tracing.shutdown] (in a thread)."""
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(self.shutdown)
