"""X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from pydantic import ValidationError

from fastapi_kit import KitSettings
from fastapi_kit.logging import RequestContextMiddleware
from fastapi_kit.security import ProxyHeadersMiddleware, client_ip
from helpers import LogCapture, client_for

TRUSTED = ["10.0.0.0/8", "192.0.2.1"]


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=TRUSTED)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/ip")
    async def ip(request: Request) -> dict[str, str | None]:
        return {"ip": client_ip(request), "scheme": request.url.scheme}

    return app


async def ip_seen(peer: str, headers: dict[str, str]) -> str:
    async with client_for(make_app(), client=(peer, 1234)) as client:
        response = await client.get("/ip", headers=headers)
    return str(response.json()["ip"])


@pytest.mark.parametrize(
    "headers",
    [
        {"x-forwarded-for": "1.2.3.4"},
        {"x-real-ip": "1.2.3.4"},
        {"x_forwarded_for": "1.2.3.4"},
        {"forwarded": "for=1.2.3.4"},
    ],
)
async def test_untrusted_peer_cannot_set_its_ip(headers: dict[str, str]) -> None:
    assert await ip_seen("203.0.113.9", headers) == "203.0.113.9"


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("10.1.2.3", "1.2.3.4", "1.2.3.4"),
        ("192.0.2.1", "1.2.3.4", "1.2.3.4"),
        # A client-written entry left of the proxy's own is ignored.
        ("10.1.2.3", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        # Chains of trusted proxies are walked from the right.
        ("10.1.2.3", "1.2.3.4, 10.9.9.9", "1.2.3.4"),
        ("10.1.2.3", "2001:db8::1", "2001:db8::1"),
    ],
)
async def test_trusted_proxy_is_believed(peer: str, forwarded_for: str, expected: str) -> None:
    assert await ip_seen(peer, {"x-forwarded-for": forwarded_for}) == expected


async def test_x_real_ip_is_ignored_even_from_a_trusted_proxy() -> None:
    assert await ip_seen("10.1.2.3", {"x-real-ip": "1.2.3.4"}) == "10.1.2.3"


async def test_forwarded_proto_is_honoured_from_trusted_proxy_only() -> None:
    async with client_for(make_app(), client=("10.0.0.1", 1)) as client:
        trusted = await client.get("/ip", headers={"x-forwarded-proto": "https"})
    async with client_for(make_app(), client=("203.0.113.9", 1)) as client:
        untrusted = await client.get("/ip", headers={"x-forwarded-proto": "https"})
    assert trusted.json()["scheme"] == "https"
    assert untrusted.json()["scheme"] == "http"


async def test_access_log_shows_the_resolved_client(logs: LogCapture) -> None:
    async with client_for(make_app(), client=("10.1.2.3", 1)) as client:
        await client.get("/ip", headers={"x-forwarded-for": "198.51.100.23"})
    assert logs.named("http_request")[0]["client_ip"] == "198.51.100.23"


@pytest.mark.parametrize("entry", ["proxy.internal", "10.0.0.0/33", "not-an-ip", "1.2.3"])
def test_invalid_trusted_entries_fail_at_start_up(entry: str) -> None:
    with pytest.raises(ValueError, match="trusted proxy"):
        ProxyHeadersMiddleware(make_app(), trusted_proxies=[entry])


def test_client_ip_of_a_scope_without_client() -> None:
    assert client_ip({"type": "http"}) is None


@pytest.mark.parametrize(
    "entry",
    ["*", "0.0.0.0/0", "::/0", " * ", "10.1.2.3/00", "0.0.0.0/1", "128.0.0.0/7", "2000::/3"],
)
def test_trusting_every_peer_is_refused(entry: str) -> None:
    for private in ("10.0.0.0/8", "172.16.0.0/12", "fc00::/7", "fd00:1::/48"):
        ProxyHeadersMiddleware(make_app(), trusted_proxies=[private])  # still fine
    # uvicorn would take the left-most X-Forwarded-For entry: the client's own words.
    with pytest.raises(ValueError, match="would trust every client"):
        ProxyHeadersMiddleware(make_app(), trusted_proxies=[entry])
    with pytest.raises(ValidationError, match="would trust every client"):
        KitSettings(trusted_proxies=[entry])
