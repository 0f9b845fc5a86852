"""Bench app: the example app traced by OpenTelemetry's own instrumentations instead.

What a team would do without the kit's tracing: ``FastAPIInstrumentor`` for the
server spans and ``SQLAlchemyInstrumentor`` for the statements, with one tracer
provider (its sampler from ``OTEL_TRACES_SAMPLER``, as the kit's) exporting over
OTLP/HTTP to a sink in another process. The kit's metrics stay on; its tracing is off.
"""

from __future__ import annotations

import otlp_sink
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

sink = otlp_sink.start()
provider = TracerProvider(resource=Resource.create({"service.name": "todo-bench"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{sink}/v1/traces")))
# Engines made from now on are traced: before the example app (and the kit) import
# SQLAlchemy's create_async_engine. The instrumentation declares SQLAlchemy < 2.1 and
# would do nothing (a logged conflict) without skip_dep_check; it works with 2.1.
SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)

from todo_example import app  # noqa: E402  # after the instrumentation, on purpose

FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)

__all__ = ("app",)
