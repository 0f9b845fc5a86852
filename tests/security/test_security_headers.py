"""Security headers on every response, errors included."""

from __future__ import annotations

from fastapi import FastAPI, Response

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.security import DEFAULT_SECURITY_HEADERS, SecurityHeadersMiddleware
from helpers import client_for

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def make_app(**options: object) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware, **options)  # type: ignore[arg-type]

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {}

    @app.get("/framable")
    async def framable(response: Response) -> dict[str, str]:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return {}

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError

    return app


async def test_defaults_are_the_contract() -> None:
    assert {k.lower(): v for k, v in DEFAULT_SECURITY_HEADERS.items()} == EXPECTED


async def test_every_response_carries_them() -> None:
    async with client_for(make_app()) as client:
        for response in (
            await client.get("/ok"),
            await client.get("/missing"),
            await client.post("/ok"),
            await client.get("/crash"),
        ):
            for name, value in EXPECTED.items():
                assert response.headers[name] == value, (response.status_code, name)


async def test_a_route_may_set_its_own_value() -> None:
    async with client_for(make_app()) as client:
        response = await client.get("/framable")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


async def test_custom_header_set() -> None:
    headers = {**DEFAULT_SECURITY_HEADERS, "Strict-Transport-Security": "max-age=63072000"}
    async with client_for(make_app(headers=headers)) as client:
        response = await client.get("/ok")
    assert response.headers["strict-transport-security"] == "max-age=63072000"
    assert response.headers["x-content-type-options"] == "nosniff"
