"""Every error source of SPEC 2 renders the same problem+json envelope."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field, ValidationError

from fastapi_kit import KitSettings
from fastapi_kit.errors import (
    ABOUT_BLANK,
    APIError,
    Conflict,
    InvalidToken,
    NotFound,
    ProblemTypes,
    RateLimited,
    ServiceUnavailable,
    install_error_handlers,
)
from helpers import LogCapture, client_for

REQUIRED = {"type", "title", "status", "code", "request_id"}


class Signup(BaseModel):
    email: str
    password: str = Field(min_length=12)


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/todos/{todo_id}")
    async def get_todo(todo_id: int) -> dict[str, int]:
        raise NotFound(f"Todo {todo_id} not found")

    @app.post("/signup")
    async def signup(body: Signup) -> dict[str, str]:
        return {"email": body.email}

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("Email already registered", extra={"field": "email"})

    @app.get("/http-exception")
    async def http_exception() -> None:
        raise HTTPException(status_code=418, detail="short and stout")

    @app.get("/http-exception-dict")
    async def http_exception_dict() -> None:
        raise HTTPException(status_code=400, detail={"reason": "bad"})

    @app.get("/http-500")
    async def http_500() -> None:
        raise HTTPException(status_code=500, detail="password=hunter2 leaked")

    @app.get("/api-500")
    async def api_500() -> None:
        raise APIError("connection string postgres://admin:pw@db")

    @app.get("/crash")
    async def crash() -> None:
        msg = "secret internals: SELECT * FROM users WHERE password = 'x'"
        raise RuntimeError(msg)

    @app.get("/limited")
    async def limited() -> None:
        raise RateLimited("Slow down", retry_after=17)

    @app.get("/down")
    async def down() -> None:
        raise ServiceUnavailable("Database unavailable")

    @app.get("/down-http")
    async def down_http() -> None:
        raise HTTPException(status_code=503)

    return app


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= REQUIRED
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "about:blank"
    return body


async def test_api_error_renders_problem_with_detail_and_instance() -> None:
    async with client_for(make_app()) as client:
        response = await client.get("/todos/42")
    body = assert_problem(response, 404, "not_found")
    assert body["title"] == "Not Found"
    assert body["detail"] == "Todo 42 not found"
    assert body["instance"] == "/todos/42"


async def test_extension_members_are_kept() -> None:
    async with client_for(make_app()) as client:
        response = await client.get("/conflict")
    assert assert_problem(response, 409, "conflict")["field"] == "email"


async def test_unknown_route_is_a_404_problem() -> None:
    async with client_for(make_app()) as client:
        response = await client.get("/nowhere")
    assert_problem(response, 404, "not_found")


async def test_wrong_method_is_a_405_problem_keeping_allow() -> None:
    async with client_for(make_app()) as client:
        response = await client.delete("/todos/1")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


async def test_other_http_exceptions_get_a_code_from_their_status() -> None:
    async with client_for(make_app()) as client:
        teapot = await client.get("/http-exception")
        structured = await client.get("/http-exception-dict")
    assert assert_problem(teapot, 418, "i_m_a_teapot")["detail"] == "short and stout"
    assert json.loads(assert_problem(structured, 400, "bad_request")["detail"]) == {"reason": "bad"}


async def test_validation_error_lists_errors_without_echoing_input() -> None:
    async with client_for(make_app()) as client:
        response = await client.post(
            "/signup", json={"email": "a@example.com", "password": "hunter2-secret"[:7]}
        )
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "loc": ["body", "password"],
            "msg": "String should have at least 12 characters",
            "type": "string_too_short",
        }
    ]
    assert "hunter2" not in response.text


async def test_missing_field_is_reported_with_its_location() -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/signup", json={"password": "correct horse battery"})
    body = assert_problem(response, 422, "validation_error")
    assert {"loc": ["body", "email"], "msg": "Field required", "type": "missing"} in body["errors"]
    assert "correct horse" not in response.text


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"email": "a@example.com", "password": ', "application/json"),  # truncated JSON
        (b"\xff\xfe\x00garbage", "application/json"),  # not even UTF-8
        (b"email=a&password=b", "application/x-www-form-urlencoded"),  # wrong content type
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),  # deeply nested
        (b'"just a string"', "application/json"),
        (b"", "application/json"),
    ],
)
async def test_hostile_bodies_get_a_4xx_problem(content: bytes, content_type: str) -> None:
    async with client_for(make_app()) as client:
        response = await client.post(
            "/signup", content=content, headers={"content-type": content_type}
        )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json().keys() >= REQUIRED


async def test_unhandled_exception_is_a_generic_500_and_logged(logs: LogCapture) -> None:
    async with client_for(make_app()) as client:
        response = await client.get("/crash", headers={"x-request-id": "trace-me-123"})
    body = assert_problem(response, 500, "internal_error")
    assert body["title"] == "Internal Server Error"
    assert "detail" not in body
    for leak in ("RuntimeError", "secret", "SELECT", "Traceback", "password"):
        assert leak not in response.text
    # Without the logging middleware the id is the kit's own, still in the log.
    [event] = logs.named("unhandled_exception")
    assert event["request_id"] == body["request_id"]
    assert "RuntimeError: secret internals" in event["exception"]


@pytest.mark.parametrize("path", ["/http-500", "/api-500"])
async def test_500_details_are_never_shown(path: str) -> None:
    async with client_for(make_app()) as client:
        response = await client.get(path)
    body = assert_problem(response, 500, "internal_error")
    assert "detail" not in body
    assert "hunter2" not in response.text
    assert "postgres://" not in response.text


async def test_429_and_503_always_carry_retry_after() -> None:
    async with client_for(make_app()) as client:
        limited = await client.get("/limited")
        down = await client.get("/down")
        down_http = await client.get("/down-http")
    assert assert_problem(limited, 429, "rate_limited")["detail"] == "Slow down"
    assert limited.headers["retry-after"] == "17"
    assert assert_problem(down, 503, "service_unavailable")["detail"] == "Database unavailable"
    assert down.headers["retry-after"] == "5"
    assert_problem(down_http, 503, "service_unavailable")
    assert down_http.headers["retry-after"] == "5"


async def test_401_errors_challenge_with_bearer() -> None:
    from fastapi_kit.errors import InvalidToken, NotAuthenticated

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/anonymous")
    async def anonymous() -> None:
        raise NotAuthenticated

    @app.get("/expired")
    async def expired() -> None:
        raise InvalidToken("Token expired")

    async with client_for(app) as client:
        anonymous_response = await client.get("/anonymous")
        expired_response = await client.get("/expired")
    assert_problem(anonymous_response, 401, "not_authenticated")
    assert anonymous_response.headers["www-authenticate"] == "Bearer"
    assert_problem(expired_response, 401, "invalid_token")
    assert expired_response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


class TodoLimitReached(Conflict):
    code = "todo_limit_reached"
    title = "Todo limit reached"


def app_with_problems(types: ProblemTypes = ABOUT_BLANK) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, problem_types=types)

    @app.post("/todos")
    async def create() -> None:
        raise TodoLimitReached("You have 500 todos already")

    @app.get("/token")
    async def token() -> None:
        raise InvalidToken("Token expired.")

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=418)

    @app.get("/crash")
    async def crash() -> None:
        msg = "boom"
        raise RuntimeError(msg)

    @app.post("/validated")
    async def validated(body: dict[str, int]) -> None: ...

    return app


async def test_about_blank_problems_are_titled_with_the_status_phrase() -> None:
    # RFC 9457 section 4.2.1: with about:blank, the title is the status phrase; the
    # specific error is in `code`.
    async with client_for(app_with_problems()) as client:
        answers = {
            "todo": await client.post("/todos"),
            "token": await client.get("/token"),
            "teapot": await client.get("/teapot"),
            "crash": await client.get("/crash"),
            "invalid": await client.post("/validated", json={"a": "b"}),
            "large": await client.get("/nowhere"),
        }
    expected = {
        "todo": (409, "todo_limit_reached", "Conflict"),
        "token": (401, "invalid_token", "Unauthorized"),
        "teapot": (418, "i_m_a_teapot", "I'm a Teapot"),
        "crash": (500, "internal_error", "Internal Server Error"),
        "invalid": (422, "validation_error", "Unprocessable Content"),
        "large": (404, "not_found", "Not Found"),
    }
    for name, (status, code, title) in expected.items():
        body = assert_problem(answers[name], status, code)
        assert body["type"] == "about:blank", name
        assert body["title"] == title, name


async def test_a_problem_type_base_names_a_type_per_code_with_its_own_title() -> None:
    types = ProblemTypes("https://api.example.com/problems/")
    async with client_for(app_with_problems(types)) as client:
        todo = await client.post("/todos")
        token = await client.get("/token")
        crash = await client.get("/crash")
        invalid = await client.post("/validated", json={"a": "b"})
        missing = await client.get("/nowhere")
        document = (await client.get("/openapi.json")).json()
    for response, code, title in (
        (todo, "todo_limit_reached", "Todo limit reached"),
        (token, "invalid_token", "Invalid Token"),
        (crash, "internal_error", "Internal Server Error"),
        (invalid, "validation_error", "Validation Error"),
        (missing, "not_found", "Not Found"),
    ):
        body = response.json()
        assert body["type"] == f"https://api.example.com/problems/{code}"
        assert body["title"] == title
        assert body["code"] == code
    schema = document["components"]["schemas"]["ProblemDetail"]["properties"]
    assert "https://api.example.com/problems/invalid_token" in schema["type"]["examples"]
    assert {"invalid_token", "todo_limit_reached", "rate_limited"} <= set(
        schema["code"]["examples"]
    )
    assert "- `invalid_token` (401): Invalid Token" in schema["code"]["description"]


def test_a_problem_type_base_must_be_an_http_uri() -> None:
    ProblemTypes("https://api.example.com/problems.html#")  # a section per code
    for base in ("problems/", "ftp://x/", "https://x/?q=1", "https:///nohost", "https://x/p"):
        with pytest.raises(ValueError, match="problem type base"):
            ProblemTypes(base)
        with pytest.raises(ValidationError, match="problem type base"):
            KitSettings(problem_type_base=base)


async def test_exception_after_response_started_is_not_masked(logs: LogCapture) -> None:
    from starlette.responses import StreamingResponse

    app = FastAPI()
    install_error_handlers(app)

    async def chunks() -> Any:
        yield b"partial"
        msg = "boom mid-stream"
        raise RuntimeError(msg)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(chunks())

    async with client_for(app) as client:
        response = await client.get("/stream")
    # Headers were sent already: the status cannot change, the failure is logged.
    assert response.status_code == 200
    assert "boom mid-stream" in logs.named("unhandled_exception")[0]["exception"]


async def test_unusual_status_codes_still_get_a_code_and_title() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/client-closed")
    async def client_closed() -> None:
        raise HTTPException(status_code=499)

    async with client_for(app) as client:
        response = await client.get("/client-closed")
    body = assert_problem(response, 499, "error")
    assert body["title"] == "Error"


async def test_plain_starlette_apps_get_the_envelope_too() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route

    async def boom(request: object) -> None:
        raise NotFound("No such thing")

    app = Starlette(routes=[Route("/thing", boom)])
    install_error_handlers(app)
    async with client_for(app) as client:
        missing = await client.get("/thing")
        unknown = await client.get("/other")
    assert assert_problem(missing, 404, "not_found")["detail"] == "No such thing"
    assert_problem(unknown, 404, "not_found")
