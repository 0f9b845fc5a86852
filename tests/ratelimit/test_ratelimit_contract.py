"""One contract suite over both counters: in process memory and a real Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from fastapi_kit.auth import Auth
from fastapi_kit.ratelimit import RateLimiter
from fastapi_kit.testing import app_client
from ratelimit.app import make_app

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@pytest.fixture(params=["memory", "redis"])
def redis_or_none(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "memory" else request.getfixturevalue("redis_url")


@asynccontextmanager
async def started(
    redis_url: str | None, **options: object
) -> AsyncIterator[tuple[httpx.AsyncClient, RateLimiter, Auth, FastAPI]]:
    app, _, limiter, auth = make_app(redis_url, **options)  # type: ignore[arg-type]
    async with app_client(app) as client:
        yield client, limiter, auth, app


def bearer(auth: Auth, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.tokens.issue_pair(user, []).access_token}"}


async def statuses(client: httpx.AsyncClient, path: str, times: int, **kwargs: object) -> list[int]:
    return [(await client.get(path, **kwargs)).status_code for _ in range(times)]  # type: ignore[arg-type]


async def test_requests_over_the_limit_are_refused(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        assert await statuses(client, "/ip", 4) == [200, 200, 200, 429]


async def test_headers_count_down_on_every_limited_response(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        started_at = int(time.time())
        responses = [await client.get("/ip") for _ in range(4)]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    for response in responses:
        assert response.headers["x-ratelimit-limit"] == "3"
        assert started_at <= int(response.headers["x-ratelimit-reset"]) <= started_at + 61
        assert response.headers["ratelimit-policy"] == '"route";q=3;w=60'
        remaining = response.headers["x-ratelimit-remaining"]
        assert response.headers["ratelimit"].startswith(f'"route";r={remaining};t=')
        assert all(len(response.headers.get_list(name)) == 1 for name in RATE_HEADERS)


async def test_a_refusal_is_a_problem_with_retry_after(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        for _ in range(3):
            await client.get("/ip")
        refused = await client.get("/ip")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["status"] == 429
    assert body["detail"] == "Rate limit exceeded: 3 per 1 minute."
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["cache-control"] == "no-store"
    assert refused.headers["x-ratelimit-remaining"] == "0"


async def test_every_limit_of_a_route_applies(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        first = await client.get("/multi")
        assert await statuses(client, "/multi", 2) == [200, 429]
    # The tightest limit is reported; both are listed as policies.
    assert first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    assert first.headers["ratelimit-policy"] == '"route-0";q=2;w=60, "route-1";q=3;w=3600'
    assert first.text == "plain"  # a Response the endpoint built still gets the headers


async def test_headers_reach_models_and_dicts_alike(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        model = await client.get("/model")
        plain = await client.get("/ip")
    assert model.json() == {"id": 1}
    assert model.headers["x-ratelimit-remaining"] == "4"
    assert plain.headers["x-ratelimit-remaining"] == "2"


async def test_a_scope_is_one_budget_across_routes(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        codes = [(await client.get(path)).status_code for path in ("/group/a", "/group/b") * 2]
    assert codes == [200, 200, 200, 429]


async def test_costs_use_up_the_budget_faster(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        too_dear = await client.get("/costly", params={"cost": "6"})
        first = await client.get("/costly", params={"cost": "3"})
        second = await client.get("/costly", params={"cost": "3"})
        third = await client.get("/costly", params={"cost": "2"})
        fixed = [(await client.get("/fixed-cost")).status_code for _ in range(3)]
    assert too_dear.status_code == 429  # more than the whole limit: never fits
    assert too_dear.headers["x-ratelimit-remaining"] == "5"  # and not counted
    assert first.headers["x-ratelimit-remaining"] == "2"
    assert second.status_code == 429  # 3 + 3 > 5: refused, and not counted
    assert third.status_code == 200
    assert third.headers["x-ratelimit-remaining"] == "0"
    assert fixed == [200, 200, 429]


async def test_reset_restores_every_budget(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, limiter, _, _):
        assert await statuses(client, "/ip", 4) == [200, 200, 200, 429]
        await limiter.reset()
        assert await statuses(client, "/ip", 1) == [200]


async def test_exempt_when_skips_the_limit(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        internal = await statuses(client, "/internal", 3, headers={"X-Internal": "yes"})
        external = await statuses(client, "/internal", 2)
    assert internal == [200, 200, 200]
    assert external == [200, 429]


async def test_users_behind_one_address_have_their_own_budgets(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, auth, _):
        alice, bob = bearer(auth, "alice"), bearer(auth, "bob")
        assert await statuses(client, "/items/1", 3, headers=alice) == [200, 200, 200]
        assert await statuses(client, "/items/1", 1, headers=alice) == [429]
        assert await statuses(client, "/items/1", 3, headers=bob) == [200, 200, 200]


async def test_other_ids_and_query_strings_share_the_routes_budget(
    redis_or_none: str | None,
) -> None:
    async with started(redis_or_none) as (client, _, auth, _):
        alice = bearer(auth, "alice")
        codes = [
            (await client.get(path, headers=alice)).status_code
            for path in ("/items/1", "/items/2?x=1", "/items/3?y=2&x=9", "/items/4")
        ]
    assert codes == [200, 200, 200, 429]


async def test_user_keys_need_a_user(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, auth, _):
        anonymous = await client.get("/mine")
        forged = await client.get("/mine", headers={"Authorization": "Bearer nope"})
        mine = await statuses(client, "/mine", 3, headers=bearer(auth, "carol"))
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert forged.status_code == 401
    assert forged.json()["code"] == "invalid_token"
    assert "x-ratelimit-limit" not in anonymous.headers  # nothing was counted
    assert mine == [200, 200, 429]


async def test_the_default_limit_is_one_budget_per_user_or_address(
    redis_or_none: str | None,
) -> None:
    async with started(redis_or_none, default="3/minute") as (client, _, auth, _):
        anonymous = [(await client.get(p)).status_code for p in ("/api/one", "/api/two") * 2]
        dave = [
            (await client.get(p, headers=bearer(auth, "dave"))).status_code
            for p in ("/api/one", "/api/two") * 2
        ]
        exempted = await statuses(client, "/api/exempt", 5)
        free = await client.get("/free")
    assert anonymous == [200, 200, 200, 429]
    assert dave == [200, 200, 200, 429]  # a user of the same address has their own
    assert exempted == [200] * 5
    assert "x-ratelimit-limit" not in free.headers


async def test_a_routes_own_limit_and_the_default_both_apply_with_one_set_of_headers(
    redis_or_none: str | None,
) -> None:
    async with started(redis_or_none, default="3/minute") as (client, _, _, _):
        first = await client.get("/api/own")
        second = await client.get("/api/own")
        third = await client.get("/api/own")  # the route's own 2/minute refuses it
        other = await client.get("/api/one")  # the default budget is not used up by it
    assert first.headers["x-ratelimit-limit"] == "2"  # the tighter of the two
    assert first.headers["ratelimit-policy"] == '"default";q=3;w=60, "route";q=2;w=60'
    assert len(first.headers.get_list("x-ratelimit-remaining")) == 1
    assert second.status_code == 200
    assert third.status_code == 429
    assert other.status_code == 429  # 3 default-limited requests already


async def test_forwarded_headers_from_an_untrusted_peer_do_not_change_the_key(
    redis_or_none: str | None,
) -> None:
    spoofed = [
        {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"} for n in range(4)
    ]
    async with started(redis_or_none, trusted_proxies=["10.0.0.0/8"]) as (client, _, _, _):
        codes = [(await client.get("/ip", headers=h)).status_code for h in spoofed]
        underscored = await client.get("/ip", headers={"X_FORWARDED_FOR": "192.0.2.1"})
    assert codes == [200, 200, 200, 429]
    assert underscored.status_code == 429


async def test_forwarded_headers_from_a_trusted_proxy_give_each_client_a_budget(
    redis_or_none: str | None,
) -> None:
    async with started(redis_or_none, trusted_proxies=["127.0.0.1"]) as (client, _, _, _):
        one = await statuses(client, "/ip", 4, headers={"X-Forwarded-For": "203.0.113.1"})
        two = await statuses(client, "/ip", 1, headers={"X-Forwarded-For": "203.0.113.2"})
    assert one == [200, 200, 200, 429]
    assert two == [200]


async def test_logins_are_limited_per_address_and_per_account(redis_or_none: str | None) -> None:
    proxied = {"trusted_proxies": ["127.0.0.1"]}
    async with started(redis_or_none, **proxied) as (client, _, _, _):

        async def login(account: str, address: str) -> int:
            response = await client.post(
                "/login", data={"username": account}, headers={"X-Forwarded-For": address}
            )
            return response.status_code

        # One address trying many accounts: its own budget runs out.
        many_accounts = [await login(f"user{n}@example.com", "203.0.113.9") for n in range(4)]
        # One account tried from many addresses: the account's budget runs out.
        many_addresses = [await login("Victim@Example.com ", f"198.51.100.{n}") for n in range(4)]
    assert many_accounts == [200, 200, 200, 429]
    assert many_addresses == [200, 200, 200, 429]  # case and spaces do not make new accounts


async def test_ipv6_clients_are_counted_by_normalised_network(redis_or_none: str | None) -> None:
    async with started(redis_or_none, trusted_proxies=["127.0.0.1"]) as (client, _, _, _):

        async def login(address: str) -> int:
            response = await client.post(
                "/login",
                data={"username": f"{address}@example.com"},  # a fresh account each time
                headers={"X-Forwarded-For": address},
            )
            return response.status_code

        canonical = [await login("2001:db8:1:2::aa") for _ in range(4)]
        spellings = [
            await login(address)
            for address in (
                "2001:0db8:0001:0002:0000:0000:0000:00aa",  # the same address, spelled out
                "2001:DB8:1:2::AA",
                "2001:db8:1:2:ffff:ffff:ffff:1",  # another address of the same /64
            )
        ]
        other_network = await login("2001:db8:1:3::aa")
        mapped = [await login(a) for a in ("::ffff:192.0.2.7", "192.0.2.7", "192.0.2.7")]
    assert canonical == [200, 200, 200, 429]
    assert spellings == [429, 429, 429]
    assert other_network == 200
    assert mapped == [200, 200, 200]  # an IPv4-mapped address is its IPv4 address


async def test_the_ipv6_prefix_is_configurable(redis_or_none: str | None) -> None:
    options = {"trusted_proxies": ["127.0.0.1"], "ipv6_prefix": 128}
    async with started(redis_or_none, **options) as (client, _, _, _):
        same = await statuses(client, "/ip", 4, headers={"X-Forwarded-For": "2001:db8::1"})
        neighbour = await statuses(client, "/ip", 1, headers={"X-Forwarded-For": "2001:db8::2"})
    assert same == [200, 200, 200, 429]
    assert neighbour == [200]  # a /128: every address is its own client


async def test_json_fields_can_be_keys(redis_or_none: str | None) -> None:
    async with started(redis_or_none, trusted_proxies=["127.0.0.1"]) as (client, _, _, _):
        codes = [
            (
                await client.post(
                    "/signup",
                    json={"email": "same@example.com"},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                )
            ).status_code
            for n in range(3)
        ]
    assert codes == [200, 200, 429]


async def test_limited_operations_document_their_429(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        document = (await client.get("/openapi.json")).json()
    limited = document["paths"]["/ip"]["get"]
    assert "429" in limited["responses"]
    assert "3 per 1 minute" in limited["description"]
    assert "429" in document["paths"]["/api/one"]["get"]["responses"]
    assert "429" not in document["paths"]["/free"]["get"]["responses"]


async def test_bad_credentials_count_against_the_address_on_public_routes(
    redis_or_none: str | None,
) -> None:
    async with started(redis_or_none, default="2/minute") as (client, _, auth, _):
        forged = {"Authorization": "Bearer not-a-token"}
        codes = [(await client.get("/api/one", headers=forged)).status_code for _ in range(2)]
        anonymous = await client.get("/api/two")  # same address: same budget
        user = await client.get("/api/user-key", headers=bearer(auth, "erin"))
    assert codes == [200, 200]  # the route is public: its own code decides
    assert anonymous.status_code == 429
    # The default limit authenticated the request; the route's user key reuses that.
    assert user.status_code == 200
    assert user.headers["x-ratelimit-remaining"] == "1"


async def test_unreadable_bodies_share_one_empty_key(redis_or_none: str | None) -> None:
    async with started(redis_or_none) as (client, _, _, _):
        first = await client.post(
            "/raw", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        second = await client.post("/raw", data={"other": "field"})
    assert (first.status_code, second.status_code) == (200, 429)
