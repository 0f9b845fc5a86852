"""X-Request-ID handling, request-scoped log context and the access log line."""

from __future__ import annotations

import re

import pytest
import structlog
from fastapi import FastAPI, Request

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.logging import RequestContextMiddleware
from helpers import LogCapture, client_for

GENERATED = re.compile(r"[0-9a-f]{32}")


def make_app(*, access_log: bool = True) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, access_log=access_log)

    @app.get("/hello")
    async def hello(request: Request) -> dict[str, str]:
        structlog.get_logger("app").info("inside", note="from the endpoint")
        return {"request_id": request.state.request_id}

    @app.get("/me")
    async def me(request: Request) -> dict[str, str]:
        request.state.user_id = 42  # what the auth block does
        return {}

    @app.get("/crash")
    async def crash() -> None:
        msg = "kaboom"
        raise ValueError(msg)

    return app


@pytest.mark.parametrize("sent", ["abc-123", "A.b_C-9", "x" * 128, "3f2c9a7e"])
async def test_sane_request_id_is_echoed(sent: str) -> None:
    async with client_for(make_app()) as client:
        response = await client.get("/hello", headers={"x-request-id": sent})
    assert response.headers["x-request-id"] == sent
    assert response.json() == {"request_id": sent}


@pytest.mark.parametrize(
    "sent",
    [
        "x" * 129,
        "y" * 10_000,
        'quote"d',
        "semi;colon",
        "spa ce",
        "",
        "naïve",
        "<script>",
    ],
)
async def test_unsafe_request_id_is_replaced(sent: str) -> None:
    async with client_for(make_app()) as client:
        response = await client.get("/hello", headers={"x-request-id": sent.encode()})
    assert GENERATED.fullmatch(response.headers["x-request-id"])
    assert response.json() == {"request_id": response.headers["x-request-id"]}


async def test_crlf_in_request_id_is_replaced() -> None:
    # A server would refuse a raw CRLF; an ASGI scope can still carry one.
    app = make_app()
    sent: list[tuple[str, list[tuple[bytes, bytes]]]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/hello",
        "raw_path": b"/hello",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"x-request-id", b"evil\r\nSet-Cookie: a=b")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            sent.append(("start", message["headers"]))  # type: ignore[arg-type]

    await app(scope, receive, send)
    [(_, headers)] = sent
    request_ids = [value for name, value in headers if name == b"x-request-id"]
    assert len(request_ids) == 1
    assert GENERATED.fullmatch(request_ids[0].decode())


async def test_each_request_gets_a_new_id() -> None:
    async with client_for(make_app()) as client:
        first = await client.get("/hello")
        second = await client.get("/hello")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_500_carries_the_request_id_in_header_body_and_log(logs: LogCapture) -> None:
    async with client_for(make_app()) as client:
        response = await client.get("/crash", headers={"x-request-id": "req-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500"
    assert response.json()["request_id"] == "req-500"
    [error] = logs.named("unhandled_exception")
    assert error["request_id"] == "req-500"
    assert "ValueError: kaboom" in error["exception"]
    [access] = logs.named("http_request")
    assert access["status"] == 500


async def test_one_access_line_per_request_with_the_contract_keys(logs: LogCapture) -> None:
    async with client_for(make_app(), client=("203.0.113.7", 4242)) as client:
        await client.get("/hello?token=abc", headers={"x-request-id": "req-1"})
    [line] = logs.named("http_request")
    assert line["method"] == "GET"
    assert line["path"] == "/hello"  # never the query string
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["request_id"] == "req-1"
    assert line["client_ip"] == "203.0.113.7"
    assert line["level"] == "info"
    assert "user_id" not in line
    assert "abc" not in logs.text


async def test_app_log_events_carry_the_request_id(logs: LogCapture) -> None:
    async with client_for(make_app()) as client:
        await client.get("/hello", headers={"x-request-id": "req-ctx"})
    [inside] = logs.named("inside")
    assert inside["request_id"] == "req-ctx"
    # The context does not outlive the request.
    structlog.get_logger("app").info("after")
    assert "request_id" not in logs.named("after")[0]


async def test_user_id_joins_the_access_line_once_known(logs: LogCapture) -> None:
    async with client_for(make_app()) as client:
        await client.get("/me")
    assert logs.named("http_request")[0]["user_id"] == "42"


async def test_access_log_can_be_turned_off(logs: LogCapture) -> None:
    async with client_for(make_app(access_log=False)) as client:
        response = await client.get("/hello")
    assert GENERATED.fullmatch(response.headers["x-request-id"])
    assert logs.named("http_request") == []


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def inner(scope: dict[str, object], receive: object, send: object) -> None:
        seen.append(str(scope["type"]))

    middleware = RequestContextMiddleware(inner)  # type: ignore[arg-type]
    await middleware({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]
