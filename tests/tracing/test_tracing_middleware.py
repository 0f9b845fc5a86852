from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy.ext.asyncio import create_async_engine
from tracing_app import make_app

from fastapi_kit.tracing import Tracing
from helpers import LogCapture, client_for

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def server_span(spans: InMemorySpanExporter) -> ReadableSpan:
    [span] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    return span


async def test_a_request_is_one_server_span_named_by_its_full_route_template(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    async with client_for(make_app(tracing)) as client:
        response = await client.get("/api/v1/todos/7", headers={"User-Agent": "probe/1"})
    assert response.status_code == 200
    span = server_span(spans)
    assert span.name == "GET /api/v1/todos/{todo_id}"
    assert span.parent is None
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "url.path": "/api/v1/todos/7",
        "network.protocol.version": "1.1",
        "user_agent.original": "probe/1",
        "server.address": "testserver",
        "server.port": 80,
        "http.route": "/api/v1/todos/{todo_id}",
        "client.address": "127.0.0.1",
        "http.response.status_code": 200,
    }
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "fastapi_kit"


async def test_an_unmatched_path_is_named_after_its_method_alone(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    async with client_for(make_app(tracing)) as client:
        assert (await client.get("/nowhere?token=secret")).status_code == 404
    span = server_span(spans)
    assert span.name == "GET"
    attributes = dict(span.attributes or {})
    assert "http.route" not in attributes
    assert attributes["http.response.status_code"] == 404
    assert attributes["url.path"] == "/nowhere"
    assert "secret" not in repr(attributes)  # the query string is never recorded
    assert span.status.status_code is StatusCode.UNSET


async def test_an_exception_is_recorded_and_marks_the_span_as_an_error(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    async with client_for(make_app(tracing)) as client:
        assert (await client.get("/api/v1/todos/3/fail")).status_code == 500
    span = server_span(spans)
    assert span.name == "GET /api/v1/todos/{todo_id}/fail"
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "RuntimeError"
    [event] = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.message"] == "todo 3 broke"


async def test_a_5xx_response_marks_the_span_as_an_error(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    from fastapi.responses import JSONResponse

    app = make_app(tracing)

    @app.get("/down")
    async def down() -> JSONResponse:
        return JSONResponse({}, status_code=503)

    async with client_for(app) as client:
        assert (await client.get("/down")).status_code == 503
    span = server_span(spans)
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "503"
    assert span.events == ()


async def test_an_incoming_traceparent_continues_its_trace(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    headers = {"traceparent": TRACEPARENT, "tracestate": "vendor=a", "baggage": "k=v"}
    async with client_for(make_app(tracing)) as client:
        assert (await client.get("/healthz", headers=headers)).status_code == 200
    span = server_span(spans)
    assert span.name == "GET /healthz"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert span.parent.is_remote
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert span.context.trace_state.get("vendor") == "a"


async def test_repeated_tracestate_headers_are_one_list(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    headers = [("traceparent", TRACEPARENT), ("tracestate", "a=1"), ("tracestate", "b=2")]
    async with client_for(make_app(tracing)) as client:
        await client.get("/healthz", headers=headers)
    state = server_span(spans).context.trace_state
    assert (state.get("a"), state.get("b")) == ("1", "2")


async def test_a_malformed_traceparent_starts_a_new_trace(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    async with client_for(make_app(tracing)) as client:
        await client.get("/healthz", headers={"traceparent": "00-nonsense-01"})
    span = server_span(spans)
    assert span.parent is None
    assert format(span.context.trace_id, "032x") != TRACE_ID


@pytest.mark.parametrize(
    ("host", "address", "port"),
    [
        ("api.example.com:8443", "api.example.com", 8443),
        ("api.example.com", "api.example.com", 80),
        ("[::1]:8000", "::1", 8000),
        ("[::1]", "::1", 80),
    ],
)
async def test_the_server_is_the_host_the_client_named(
    tracing: Tracing, spans: InMemorySpanExporter, host: str, address: str, port: int
) -> None:
    async with client_for(make_app(tracing)) as client:
        await client.get("/healthz", headers={"Host": host})
    attributes = server_span(spans).attributes or {}
    assert (attributes["server.address"], attributes["server.port"]) == (address, port)


async def _call(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "method": "GET",
        "scheme": "https",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "server": ("10.0.0.1", 8443),
    }
    return {**scope, **overrides}


async def test_without_a_host_header_the_server_is_the_socket(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    sent = await _call(make_app(tracing), _scope())
    assert sent[0]["status"] == 200
    attributes = server_span(spans).attributes or {}
    assert (attributes["server.address"], attributes["server.port"]) == ("10.0.0.1", 8443)
    assert attributes["url.scheme"] == "https"
    for absent in ("client.address", "network.protocol.version", "user_agent.original"):
        assert absent not in attributes


async def test_without_a_server_there_is_no_server_address(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    await _call(make_app(tracing), _scope(server=None))
    assert "server.address" not in (server_span(spans).attributes or {})


async def test_an_unknown_method_is_other(tracing: Tracing, spans: InMemorySpanExporter) -> None:
    await _call(make_app(tracing), _scope(method="BREW"))
    span = server_span(spans)
    assert span.name == "HTTP /healthz"  # 405: the route matched, the method did not
    attributes = span.attributes or {}
    assert attributes["http.request.method"] == "_OTHER"
    assert attributes["http.request.method_original"] == "BREW"


async def test_other_scope_types_pass_through(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    from fastapi_kit.tracing import TracingMiddleware

    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = TracingMiddleware(inner, tracing=tracing)
    await middleware({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    await middleware({"type": "websocket"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan", "websocket"]
    assert spans.get_finished_spans() == ()


async def test_a_route_added_after_the_first_request_gets_its_template(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    app = make_app(tracing)
    async with client_for(app) as client:
        await client.get("/healthz")
        late = APIRouter(prefix="/late")

        @late.get("/{item}")
        async def item(item: str) -> str:
            return item

        app.include_router(late, prefix="/v2")
        assert (await client.get("/v2/late/x")).status_code == 200
    assert spans.get_finished_spans()[-1].name == "GET /v2/late/{item}"


def router_included_twice() -> FastAPI:
    """An app with one router, ``GET /items/{item}``, included as ``/v1`` and ``/v2``."""
    app = FastAPI()
    shared = APIRouter()

    @shared.get("/items/{item}")
    async def item(item: str) -> str:
        return item

    app.include_router(shared, prefix="/v1")
    app.include_router(shared, prefix="/v2")
    return app


async def test_a_router_included_twice_gets_the_template_of_the_prefix_used(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    from fastapi_kit.tracing import TracingMiddleware

    app = router_included_twice()
    app.add_middleware(TracingMiddleware, tracing=tracing)
    async with client_for(app) as client:
        await client.get("/v2/items/a")
        await client.get("/v1/items/a")
        await client.get("/v2/items/b")
    names = [span.name for span in spans.get_finished_spans()]
    assert names == ["GET /v2/items/{item}", "GET /v1/items/{item}", "GET /v2/items/{item}"]


async def test_a_mounted_app_route_keeps_its_own_template(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    sub = FastAPI()

    @sub.get("/ping/{n}")
    async def ping(n: int) -> int:
        return n

    app = make_app(tracing)
    app.mount("/sub", sub)
    async with client_for(app) as client:
        assert (await client.get("/sub/ping/1")).status_code == 200
    assert server_span(spans).name == "GET /ping/{n}"


async def test_fastapi_native_telemetry_is_not_doubled(spans: InMemorySpanExporter) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = make_app(
        Tracing(tracer_provider=provider),
        telemetry={"tracer_provider": provider, "operation_spans": False},
    )
    async with client_for(app) as client:
        await client.get("/api/v1/todos/1")
    [span] = spans.get_finished_spans()
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "fastapi"


async def test_a_query_inside_a_request_is_a_child_span_and_logs_carry_the_ids(
    tracing: Tracing, spans: InMemorySpanExporter, traced_logs: LogCapture
) -> None:
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    tracing.instrument_sqlalchemy(engine)
    tracing.instrument_sqlalchemy(engine)  # once is enough: no second span per query
    try:
        async with client_for(make_app(tracing, engine=engine)) as client:
            response = await client.get("/api/v1/todos/5/sql")
    finally:
        await engine.dispose()
    assert response.json() == {"value": 5}
    server = server_span(spans)
    [query] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert query.parent is not None
    assert query.parent.span_id == server.context.span_id
    assert query.context.trace_id == server.context.trace_id
    assert query.name.startswith("SELECT")
    assert "5" not in str((query.attributes or {})["db.query.text"])  # placeholders only
    [line] = traced_logs.named("queried")
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    assert line["span_id"] == format(server.context.span_id, "016x")


async def test_log_lines_inside_a_request_carry_its_span_ids_and_outside_none(
    tracing: Tracing, spans: InMemorySpanExporter, traced_logs: LogCapture
) -> None:
    import structlog

    async with client_for(make_app(tracing)) as client:
        await client.get("/api/v1/todos/9", headers={"traceparent": TRACEPARENT})
    structlog.get_logger("tests").info("outside")
    [inside] = traced_logs.named("todo_read")
    assert inside["trace_id"] == TRACE_ID
    assert inside["span_id"] == format(server_span(spans).context.span_id, "016x")
    assert len(inside["span_id"]) == 16
    [outside] = traced_logs.named("outside")
    assert "trace_id" not in outside
    assert "span_id" not in outside


@pytest.mark.redis
async def test_a_redis_command_inside_a_request_is_a_child_span(
    tracing: Tracing, spans: InMemorySpanExporter, redis_url: str
) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    tracing.instrument_redis(client)
    tracing.instrument_redis(client)
    try:
        async with client_for(make_app(tracing, redis=client)) as http:
            assert (await http.get("/api/v1/todos/4/redis")).json() == {"value": "x"}
    finally:
        await client.aclose()
    server = server_span(spans)
    commands = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert [s.name for s in commands] == ["SET", "GET"]
    for span in commands:
        assert span.parent is not None
        assert span.parent.span_id == server.context.span_id
    assert (commands[0].attributes or {})["db.statement"] == "SET ? ?"


def test_a_shared_route_is_found_under_the_app_root_path_and_falls_back_to_its_first_prefix() -> (
    None
):
    from fastapi_kit._routes import RouteTemplates

    app = router_included_twice()
    [route] = {id(r.original_route): r.original_route for r in _contexts(app)}.values()
    templates = RouteTemplates()
    scope = {"app": app, "route": route, "root_path": "/api", "path": "/api/v2/items/a"}
    assert templates.template(scope) == "/v2/items/{item}"
    assert templates.template({**scope, "path": "/elsewhere"}) == "/v1/items/{item}"


def _contexts(app: Any) -> list[Any]:
    from fastapi.routing import iter_route_contexts

    return [c for c in iter_route_contexts(app.routes) if c.path_format.startswith("/v")]


async def test_a_span_that_is_not_sampled_gets_no_attributes_but_the_request_works() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    app = make_app(Tracing(tracer_provider=TracerProvider(sampler=ALWAYS_OFF)))
    async with client_for(app) as client:
        assert (await client.get("/api/v1/todos/1")).status_code == 200


async def test_a_host_without_a_port_on_an_unknown_scheme_has_no_port(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    await _call(make_app(tracing), _scope(scheme="spdy", headers=[(b"host", b"example.com")]))
    attributes = server_span(spans).attributes or {}
    assert attributes["server.address"] == "example.com"
    assert "server.port" not in attributes
