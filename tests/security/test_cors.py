"""CORS from settings: allowed origins get the headers, others get nothing."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Response

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.logging import RequestContextMiddleware
from fastapi_kit.security import CORSMiddleware
from helpers import client_for

ALLOWED = "https://app.example.com"


def make_app(origins: list[str], **options: object) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(CORSMiddleware, allow_origins=origins, **options)  # type: ignore[arg-type]
    app.add_middleware(RequestContextMiddleware)

    @app.get("/todos")
    async def todos() -> list[str]:
        return []

    return app


async def test_allowed_origin_gets_the_headers() -> None:
    async with client_for(make_app([ALLOWED])) as client:
        response = await client.get("/todos", headers={"origin": ALLOWED})
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    assert "Origin" in response.headers["vary"]


async def test_other_origin_gets_no_allow_origin() -> None:
    async with client_for(make_app([ALLOWED])) as client:
        response = await client.get("/todos", headers={"origin": "https://evil.example"})
    assert response.status_code == 200  # the browser, not the server, withholds it
    assert "access-control-allow-origin" not in response.headers


async def test_preflight_from_allowed_origin() -> None:
    async with client_for(make_app([ALLOWED])) as client:
        response = await client.options(
            "/todos",
            headers={
                "origin": ALLOWED,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type, x-csrf-token",
            },
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "X-CSRF-Token" in response.headers["access-control-allow-headers"]


@pytest.mark.parametrize(
    ("origin", "headers", "failure"),
    [
        ("https://evil.example", "content-type", "origin"),
        (ALLOWED, "x-evil", "headers"),
    ],
)
async def test_refused_preflight_is_a_400_problem(origin: str, headers: str, failure: str) -> None:
    async with client_for(make_app([ALLOWED])) as client:
        response = await client.options(
            "/todos",
            headers={
                "origin": origin,
                "access-control-request-method": "GET",
                "access-control-request-headers": headers,
                "x-request-id": "pre-1",
            },
        )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "bad_request"
    assert body["detail"] == f"Disallowed CORS {failure}."
    assert body["request_id"] == "pre-1"
    assert body["instance"] == "/todos"
    if failure == "origin":
        assert "access-control-allow-origin" not in response.headers


async def test_wildcard_origin_never_sends_credentials() -> None:
    async with client_for(make_app(["*"])) as client:
        response = await client.get("/todos", headers={"origin": "https://any.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_wildcard_with_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="credentials"):
        CORSMiddleware(make_app([]), allow_origins=["*"], allow_credentials=True)


@pytest.mark.parametrize("origin", ["app.example.com", "https://app.example.com/", "ftp://x.y"])
def test_malformed_origins_are_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="CORS origin"):
        CORSMiddleware(make_app([]), allow_origins=[origin])


async def test_credentials_can_be_turned_off_for_listed_origins() -> None:
    async with client_for(make_app([ALLOWED], allow_credentials=False)) as client:
        response = await client.get("/todos", headers={"origin": ALLOWED})
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in response.headers


async def test_non_cors_responses_vary_on_origin_merged_with_their_own_vary() -> None:
    app = make_app([ALLOWED])

    @app.get("/varies")
    async def varies(response: Response) -> dict[str, str]:
        response.headers["Vary"] = "Accept-Encoding"
        return {}

    async with client_for(app) as client:
        plain = await client.get("/todos")
        varies_response = await client.get("/varies")
    assert plain.headers.get_list("vary") == ["Origin"]
    assert varies_response.headers.get_list("vary") == ["Accept-Encoding, Origin"]
