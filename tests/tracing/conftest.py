"""Fixtures of the tracing tests: a tracer provider exporting to memory, logs with trace ids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fastapi_kit.tracing import Tracing, add_trace_ids
from helpers import LogCapture


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Where the ``tracing`` fixture's spans go, as each ends."""
    return InMemorySpanExporter()


@pytest.fixture
def tracing(spans: InMemorySpanExporter) -> Iterator[Tracing]:
    """A ``Tracing`` over a provider of its own, exporting synchronously to ``spans``."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    yield Tracing(tracer_provider=provider)
    provider.shutdown()


@pytest.fixture
def traced_logs() -> LogCapture:
    """The kit's JSON logging into a buffer, with ``add_trace_ids`` (as ``Kit`` sets it)."""
    return LogCapture(processors=(add_trace_ids,))
