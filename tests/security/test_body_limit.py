"""Bodies over the limit get a 413 problem without the rest being read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.security import BodySizeLimitMiddleware
from helpers import client_for

LIMIT = 1024


class Note(BaseModel):
    text: str


def make_app(limit: int = LIMIT) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_body_size=limit)

    @app.post("/notes")
    async def create(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    return app


def assert_413(response: object) -> None:
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "payload_too_large"
    assert body["status"] == 413


async def test_body_within_limit_is_served() -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/notes", json={"text": "x" * (LIMIT - 20)})
    assert response.status_code == 200


async def test_declared_length_over_limit_is_refused_before_the_app_runs() -> None:
    received: list[bytes] = []

    async def app(scope: object, receive: object, send: object) -> None:  # pragma: no cover
        received.append(b"app ran")

    middleware = BodySizeLimitMiddleware(app, max_body_size=LIMIT)  # type: ignore[arg-type]
    async with client_for(middleware) as client:
        response = await client.post("/notes", content=b"x" * (LIMIT + 1))
    assert_413(response)
    assert response.headers["connection"] == "close"
    assert "1024 bytes" in response.json()["detail"]
    assert received == []


async def test_declared_length_over_limit_on_an_unknown_route_is_still_413() -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/nowhere", content=b"x" * (LIMIT + 1))
    assert_413(response)


async def test_endless_stream_is_cut_off_at_the_limit() -> None:
    chunks_sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        while True:
            chunks_sent += 1
            yield b"x" * 100

    async with client_for(make_app()) as client:
        response = await client.post("/upload", content=endless())
    assert_413(response)
    # The limit was crossed by the 11th chunk; nothing after it was read.
    assert chunks_sent == LIMIT // 100 + 1


async def test_streamed_json_over_limit_is_413() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(50):
            yield b"y" * 100
        yield b'"}'

    async with client_for(make_app()) as client:
        response = await client.post(
            "/notes", content=body(), headers={"content-type": "application/json"}
        )
    assert_413(response)


async def test_streamed_body_within_limit_is_served() -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"z" * 100

    async with client_for(make_app()) as client:
        response = await client.post("/upload", content=body())
    assert response.json() == {"size": 500}


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1e3", b""])
async def test_malformed_content_length_is_a_400_problem(value: bytes) -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/notes", content=b"{}", headers={"content-length": value})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "bad_request"


async def test_zero_limit_allows_only_empty_bodies() -> None:
    async with client_for(make_app(limit=0)) as client:
        empty = await client.post("/upload")
        one_byte = await client.post("/upload", content=b"x")
    assert empty.json() == {"size": 0}
    assert_413(one_byte)


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_body_size"):
        BodySizeLimitMiddleware(make_app(), max_body_size=-1)
