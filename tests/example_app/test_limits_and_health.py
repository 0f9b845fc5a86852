"""Rate limits (auth per address and per account, the default per user) and health."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from todo_app_helpers import PASSWORD, bearer, log_in, register

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from conftest import Backends, StartApp


async def test_logins_are_limited_per_address_and_per_account(start_app: StartApp) -> None:
    async with start_app(rate_limit_auth="3/minute", trusted_proxies=["127.0.0.1"]) as client:
        await register(client, "target@example.com")  # one of the address's 3 registrations

        def attempt(address: str, account: str = "target@example.com") -> Awaitable[httpx.Response]:
            return client.post(
                "/auth/token",
                data={"username": account, "password": "wrong password"},
                headers={"X-Forwarded-For": address},
            )

        # One account tried from many addresses: the account's budget runs out.
        codes = [(await attempt(f"10.0.0.{n}")).status_code for n in range(1, 5)]
        assert codes == [401, 401, 401, 429]
        # One address trying many accounts: the address's budget runs out.
        codes = [(await attempt("10.9.9.9", f"u{n}@example.com")).status_code for n in range(4)]
        assert codes == [401, 401, 401, 429]
        refused = await attempt("10.9.9.9", "someone-else@example.com")
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["x-ratelimit-limit"] == "3"


async def test_registrations_are_limited_per_address(start_app: StartApp) -> None:
    async with start_app(rate_limit_auth="2/minute") as client:
        codes = [
            (
                await client.post(
                    "/auth/register", json={"email": f"r{n}@example.com", "password": PASSWORD}
                )
            ).status_code
            for n in range(3)
        ]
    assert codes == [201, 201, 429]


async def test_the_default_limit_is_one_budget_per_user(start_app: StartApp) -> None:
    async with start_app(rate_limit_default="3/minute") as client:
        await register(client, "one@example.com")
        await register(client, "two@example.com")
        one = bearer(await log_in(client, "one@example.com"))
        two = bearer(await log_in(client, "two@example.com"))
        first = await client.get("/users/me", headers=one)
        assert first.headers["x-ratelimit-limit"] == "3"
        assert first.headers["x-ratelimit-remaining"] == "2"
        # /todos and /users/me share the budget; other ids and queries too.
        codes = [
            (await client.get(path, headers=one)).status_code
            for path in ("/todos", "/todos?limit=5", "/users/me")
        ]
        assert codes == [200, 200, 429]
        assert (await client.get("/users/me", headers=two)).status_code == 200  # own budget
        anonymous = [(await client.get("/todos")).status_code for _ in range(4)]
        assert anonymous == [401, 401, 401, 429]  # per address when anonymous


async def test_health_and_readiness(start_app: StartApp, backends: Backends) -> None:
    async with start_app() as client:
        root = str(client.base_url).removesuffix("/api/v1/")
        health = await client.get(f"{root}/healthz")
        ready = await client.get(f"{root}/readyz")
    assert health.json() == {"status": "ok"}
    expected = {"database": "ok"} | ({"redis": "ok"} if backends.redis_url else {})
    assert ready.json() == {"status": "ok", "checks": expected}
