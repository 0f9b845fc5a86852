"""Pathological bodies on every route of the example app: a 4xx problem, never a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from todo_app_helpers import new_user

if TYPE_CHECKING:
    from conftest import StartApp

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MiB = 1024 * 1024

#: (name, content type or None, body): each is sent to every route.
HOSTILE: list[tuple[str, str | None, bytes]] = [
    ("deep array", JSON, b"[" * 100_000),
    ("deep object", JSON, b'{"a":' * 50_000),
    ("deep array as a form", FORM, b"[" * 100_000),
    ("a string of almost 1 MiB", JSON, b'{"title": "' + b"x" * (MiB - 64) + b'"}'),
    ("a body over 1 MiB", JSON, b'{"title": "' + b"x" * MiB + b'"}'),
    ("invalid UTF-8", JSON, b'{"title": "\xff\xfe\xfd", "email": "\xc3\x28@x.io"}'),
    ("invalid UTF-8 form", FORM, b"username=\xff\xfe&password=%ff%fe%zz"),
    ("duplicate keys", JSON, b'{"title": "one", "title": 2, "password": "a", "password": "b"}'),
    ("NaN and Infinity", JSON, b'{"title": NaN, "done": Infinity, "refresh_token": -Infinity}'),
    ("400-digit numbers", JSON, b'{"title": ' + b"9" * 400 + b', "done": 1e400}'),
    ("5000-digit integer", JSON, b'{"done": ' + b"9" * 5000 + b"}"),
    ("NUL characters", JSON, b'{"title": "a\\u0000b", "email": "a\\u0000@x.io"}'),
    ("lone surrogates", JSON, b'{"title": "\\ud800", "email": "\\udfff@x.io"}'),
    ("wrong content type", "text/plain", b'{"title": "plain"}'),
    ("XML", "application/xml", b"<title>x</title>"),
    ("no content type", None, b'{"title": "none"}'),
    ("garbage multipart", "multipart/form-data; boundary=zz", b"--zz\r\n\r\n\x00\xff--"),
    ("multipart without boundary", "multipart/form-data", b"username=a&password=b"),
    ("empty JSON", JSON, b""),
    ("JSON scalar", JSON, b"42"),
]


async def routes_of(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """Every (method, path) of the app's OpenAPI document, path parameters filled in."""
    document = (await client.get("http://testserver/openapi.json")).json()
    found = [("GET", "/healthz"), ("GET", "/readyz")]
    for path, operations in document["paths"].items():
        filled = path.replace("{todo_id}", "1").replace("{user_id}", "1")
        found.extend((method.upper(), filled) for method in operations)
    return found


@pytest.mark.parametrize(("name", "content_type", "body"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_bodies_never_get_a_500(
    start_app: StartApp, name: str, content_type: str | None, body: bytes
) -> None:
    async with start_app() as client:
        routes = await routes_of(client)
        assert len(routes) >= 16  # every route of SPEC 4.2
        auth = await new_user(client, "hostile@example.com")
        await client.post("/todos", json={"title": "exists"}, headers=auth)
        headers = dict(auth)
        if content_type is not None:
            headers["Content-Type"] = content_type
        for method, path in routes:
            response: httpx.Response = await client.request(
                method, f"http://testserver{path}", content=body, headers=headers
            )
            assert response.status_code < 500, (name, method, path, response.text[:300])
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
                assert "Traceback" not in response.text
