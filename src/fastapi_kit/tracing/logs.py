"""``add_trace_ids``: the current span's ids on every log event (a structlog processor)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from opentelemetry.trace import INVALID_SPAN, get_current_span

if TYPE_CHECKING:
    from structlog.typing import EventDict, WrappedLogger

__all__ = ("add_trace_ids",)


def add_trace_ids(_logger: WrappedLogger, _method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``trace_id`` (32 lower-case hex digits) and ``span_id`` (16) of the current span.

    Events logged outside any span are left as they are, at the cost of one context
    lookup. An event logged with ``exc_info`` inside a recording span (the error
    middleware's ``unhandled_exception``) also records the exception on the span, so
    the trace shows what the log shows. Put it after ``merge_contextvars`` and before
    ``format_exc_info``.

    Only the OpenTelemetry API is needed, which FastAPI itself depends on: the
    processor works, and finds no span, without the ``otel`` extra.
    """
    span = get_current_span()
    if span is INVALID_SPAN:
        return event_dict
    span_context = span.get_span_context()
    if not span_context.is_valid:
        return event_dict
    event_dict["trace_id"] = format(span_context.trace_id, "032x")
    event_dict["span_id"] = format(span_context.span_id, "016x")
    exc_info = event_dict.get("exc_info")
    if exc_info and span.is_recording():
        if exc_info is True:
            exc_info = sys.exc_info()
        exception = exc_info[1] if isinstance(exc_info, tuple) else exc_info
        if isinstance(exception, BaseException):
            span.record_exception(exception)
    return event_dict
