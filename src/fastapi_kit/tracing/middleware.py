"""``TracingMiddleware``: one OpenTelemetry server span per HTTP request, pure ASGI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi_kit._extras import optional_extra
from fastapi_kit._routes import RouteTemplates

with optional_extra("otel"):
    from opentelemetry import context, propagate, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from fastapi_kit.tracing.service import Tracing

__all__ = ("TracingMiddleware",)

# https://opentelemetry.io/docs/specs/semconv/http/http-spans/: other methods are
# recorded as ``_OTHER`` (with ``http.request.method_original``), their spans named HTTP.
_KNOWN_METHODS = frozenset(
    ("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE")
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Where FastAPI's own telemetry keeps its per-request state: present when a global
# tracer provider made FastAPI trace the request itself, which must not be traced twice.
_FASTAPI_TELEMETRY = "fastapi.telemetry"


class TracingMiddleware:
    """Trace every HTTP request as a ``SERVER`` span, continuing the caller's trace.

    * The parent comes from the request's ``traceparent`` and ``tracestate`` headers
      (the propagators of ``OTEL_PROPAGATORS``); without them the span starts a trace.
    * The span is named ``"{method} {route template}"`` (``GET /api/v1/todos/{todo_id}``),
      the full template of the route that matched, included routers' prefixes and all;
      a request no route matched is named after its method alone.
    * Attributes follow the HTTP semantic conventions: ``http.request.method``,
      ``url.scheme``, ``url.path``, ``http.route``, ``http.response.status_code``,
      ``server.address``, ``server.port``, ``client.address`` (as the proxy-headers
      middleware resolved it, when it runs inside this one), ``user_agent.original``,
      ``network.protocol.version``. The query string is never recorded: it may carry
      secrets (the access log leaves it out too).
    * A 5xx response, or an exception, sets the status to ``ERROR`` and ``error.type``;
      an exception that reaches this middleware is recorded on the span.
    * The span is the current one while the app runs: database and Redis spans nest
      under it, and log lines carry its ``trace_id`` and ``span_id``
      ([`add_trace_ids`][fastapi_kit.tracing.add_trace_ids]).

    Install it outermost, so that the span covers the whole stack and the access log
    line is written inside it. When FastAPI's own telemetry already traces the
    request (a global tracer provider is set), this middleware steps aside.

    Args:
        app: The ASGI app to wrap.
        tracing: The tracing service whose tracer makes the spans.
    """

    def __init__(self, app: ASGIApp, *, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing
        self._tracer = tracing.tracer
        self._routes = RouteTemplates()
        propagator = propagate.get_global_textmap()
        self._propagator = propagator
        self._fields = frozenset(field.lower().encode("latin-1") for field in propagator.fields)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http" or scope.get(_FASTAPI_TELEMETRY) is not None:
            await self.app(scope, receive, send)
            return
        carrier: dict[str, str] | None = None
        host = user_agent = None
        fields = self._fields
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"user-agent":
                user_agent = value
            elif name in fields:
                key = name.decode("latin-1")
                text = value.decode("latin-1")
                if carrier is None:
                    carrier = {key: text}
                else:  # repeated headers (tracestate, baggage) are one comma-separated list
                    carrier[key] = f"{carrier[key]},{text}" if key in carrier else text
        parent = None if carrier is None else self._propagator.extract(carrier)
        method: str = scope["method"]
        attributes = _request_attributes(scope, method, host, user_agent)
        span = self._tracer.start_span(
            method if method in _KNOWN_METHODS else "HTTP",
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
        )
        token = context.attach(trace.set_span_in_context(span, parent))
        status: int | None = None
        raised = False

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_traced)
        except BaseException as exc:
            raised = True
            span.record_exception(exc)
            span.set_attribute("error.type", _qualified_name(type(exc)))
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            context.detach(token)
            self._finish(span, scope, status, raised=raised)

    def _finish(self, span: trace.Span, scope: Scope, status: int | None, *, raised: bool) -> None:
        if span.is_recording():
            attributes: dict[str, Any] = {}
            template = self._routes.template(scope)
            if template is not None:
                attributes["http.route"] = template
                method = scope["method"]
                span.update_name(f"{method if method in _KNOWN_METHODS else 'HTTP'} {template}")
            client = scope.get("client")
            if client:
                attributes["client.address"] = client[0]
            if status is not None:
                attributes["http.response.status_code"] = status
                if status >= 500 and not raised:
                    attributes["error.type"] = str(status)
                    span.set_status(StatusCode.ERROR)
            span.set_attributes(attributes)
        span.end()


def _request_attributes(
    scope: Scope, method: str, host: bytes | None, user_agent: bytes | None
) -> dict[str, Any]:
    scheme: str = scope.get("scheme", "http")
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.scheme": scheme,
        "url.path": scope["path"],
    }
    if method not in _KNOWN_METHODS:
        attributes["http.request.method"] = "_OTHER"
        attributes["http.request.method_original"] = method
    version = scope.get("http_version")
    if version:
        attributes["network.protocol.version"] = version
    if user_agent is not None:
        attributes["user_agent.original"] = user_agent.decode("latin-1")
    address, port = _server(scope, host, scheme)
    if address:
        attributes["server.address"] = address
        if port is not None:
            attributes["server.port"] = port
    return attributes


def _server(scope: Scope, host: bytes | None, scheme: str) -> tuple[str | None, int | None]:
    """The server's address and port as the client named them (``Host``), else the socket's."""
    if host is None:
        server = scope.get("server")
        return (server[0], server[1]) if server else (None, None)
    authority = host.decode("latin-1")
    if authority.startswith("["):  # [::1]:8000
        address, _, rest = authority[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        address, _, port_text = authority.partition(":")
    if port_text.isdigit():
        return address, int(port_text)
    return address, _DEFAULT_PORTS.get(scheme)


def _qualified_name(kind: type) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
