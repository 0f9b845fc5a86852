"""Only allowed Host headers are served; others get a 400 problem."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, WebSocket

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.logging import RequestContextMiddleware
from fastapi_kit.security import AllowedHostsMiddleware
from helpers import client_for


def make_app(allowed: list[str]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(AllowedHostsMiddleware, allowed_hosts=allowed)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:  # pragma: no cover - never reached here
        await websocket.accept()

    return app


@pytest.mark.parametrize(
    "host", ["api.example.com", "API.EXAMPLE.COM", "api.example.com:8443", "a.b.example.org"]
)
async def test_allowed_hosts_are_served(host: str) -> None:
    app = make_app(["api.example.com", "*.example.org"])
    async with client_for(app) as client:
        response = await client.get("/ok", headers={"host": host})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.com", "example.org", "api.example.com.evil.com", ""])
async def test_other_hosts_get_a_400_problem(host: str) -> None:
    app = make_app(["api.example.com", "*.example.org"])
    async with client_for(app) as client:
        response = await client.get("/ok", headers={"host": host})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "bad_request"
    assert body["detail"] == "Invalid host header."
    assert body["request_id"] == response.headers["x-request-id"]


async def test_star_allows_everything() -> None:
    async with client_for(make_app(["*"])) as client:
        response = await client.get("/ok", headers={"host": "anything.invalid"})
    assert response.status_code == 200


async def test_websocket_from_another_host_is_closed() -> None:
    app = AllowedHostsMiddleware(make_app(["*"]), allowed_hosts=["api.example.com"])
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:  # pragma: no cover - not read
        return {"type": "websocket.connect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [(b"host", b"evil.com")]}
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]


@pytest.mark.parametrize("pattern", ["api.example.com:80", "foo.*.com", "http://x.com", ""])
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="allowed host"):
        AllowedHostsMiddleware(make_app(["*"]), allowed_hosts=[pattern])


async def test_verdicts_stay_right_when_many_hosts_are_seen() -> None:
    app = make_app(["api.example.com"])
    async with client_for(app) as client:
        refused = [
            (await client.get("/ok", headers={"host": f"h{number}.evil"})).status_code
            for number in range(300)
        ]
        allowed = await client.get("/ok", headers={"host": "api.example.com"})
    assert set(refused) == {400}
    assert allowed.status_code == 200
