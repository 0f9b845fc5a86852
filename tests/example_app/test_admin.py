"""Admin routes, and what a role change or a deactivation does to existing sessions."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from todo_app_helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PASSWORD,
    admin,
    bearer,
    gather,
    log_in,
    new_user,
    register,
)

from fastapi_kit.db import Database
from todo_app.models import User

if TYPE_CHECKING:
    from conftest import Backends, StartApp


async def test_the_admin_is_ensured_at_start_up(client: httpx.AsyncClient) -> None:
    me = (await client.get("/users/me", headers=await admin(client))).json()
    assert me["email"] == ADMIN_EMAIL
    assert "admin" in me["roles"]


async def test_admin_lists_everyones_todos_and_others_are_forbidden(
    client: httpx.AsyncClient,
) -> None:
    alice = await new_user(client, "alice@example.com")
    bob = await new_user(client, "bob@example.com")
    for auth, title in ((alice, "a"), (bob, "b"), (alice, "c")):
        assert (await client.post("/todos", json={"title": title}, headers=auth)).status_code == 201
    page = (
        await client.get("/admin/todos", params={"limit": 2}, headers=await admin(client))
    ).json()
    assert page["total"] == 3
    assert [item["title"] for item in page["items"]] == ["a", "b"]
    forbidden = await client.get("/admin/todos", headers=alice)
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"
    assert (await client.get("/admin/todos")).status_code == 401


async def test_a_role_change_ends_existing_sessions(client: httpx.AsyncClient) -> None:
    user = await register(client, "promote@example.com")
    old = await log_in(client, "promote@example.com")
    response = await client.patch(
        f"/admin/users/{user['id']}",
        json={"roles": ["admin", "user", "admin"]},
        headers=await admin(client),
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["admin", "user"]
    assert (await client.get("/users/me", headers=bearer(old))).status_code == 401
    refresh = await client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert refresh.status_code == 401
    new = bearer(await log_in(client, "promote@example.com"))
    assert (await client.get("/admin/todos", headers=new)).status_code == 200


async def test_deactivation_ends_sessions_and_logins(client: httpx.AsyncClient) -> None:
    user = await register(client, "leaver@example.com")
    tokens = await log_in(client, "leaver@example.com")
    response = await client.patch(
        f"/admin/users/{user['id']}", json={"is_active": False}, headers=await admin(client)
    )
    assert response.json()["is_active"] is False
    assert (await client.get("/users/me", headers=bearer(tokens))).status_code == 401
    login = await client.post(
        "/auth/token", data={"username": "leaver@example.com", "password": PASSWORD}
    )
    assert login.status_code == 401
    assert login.json()["code"] == "invalid_credentials"


async def test_an_update_that_changes_nothing_keeps_sessions(client: httpx.AsyncClient) -> None:
    user = await register(client, "same@example.com")
    tokens = await log_in(client, "same@example.com")
    response = await client.patch(
        f"/admin/users/{user['id']}",
        json={"roles": ["user"], "is_active": True},
        headers=await admin(client),
    )
    assert response.status_code == 200
    assert (await client.get("/users/me", headers=bearer(tokens))).status_code == 200


async def test_admin_user_updates_are_checked(client: httpx.AsyncClient) -> None:
    user = await register(client, "checked@example.com")
    auth = await admin(client)
    for body in (
        {"roles": ["root"]},
        {"roles": None},
        {"is_active": "perhaps"},
        {"email": "x@y.z"},
    ):
        response = await client.patch(f"/admin/users/{user['id']}", json=body, headers=auth)
        assert response.status_code == 422, body
    missing = await client.patch("/admin/users/999999", json={"is_active": False}, headers=auth)
    assert missing.status_code == 404
    mine = bearer(await log_in(client, "checked@example.com"))
    forbidden = await client.patch(
        f"/admin/users/{user['id']}", json={"roles": ["admin"]}, headers=mine
    )
    assert forbidden.status_code == 403


async def test_todos_need_the_user_role(client: httpx.AsyncClient) -> None:
    user = await register(client, "roleless@example.com")
    await client.patch(
        f"/admin/users/{user['id']}", json={"roles": []}, headers=await admin(client)
    )
    auth = bearer(await log_in(client, "roleless@example.com"))
    assert (await client.get("/users/me", headers=auth)).status_code == 200
    refused = await client.get("/todos", headers=auth)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


TRIALS = 12


@pytest.mark.parametrize("change", ["deactivate", "demote"])
async def test_logins_racing_a_change_never_keep_the_old_access(
    start_app: StartApp, backends: Backends, change: str
) -> None:
    # A login reads the user, then spends most of its time hashing. An admin change
    # that commits meanwhile must leave the login's tokens refused, and their refresh
    # must not renew the old access. With Redis, the login runs on another instance.
    async with AsyncExitStack() as stack:
        patcher = await stack.enter_async_context(start_app())
        logger = await stack.enter_async_context(start_app()) if backends.redis_url else patcher
        boss = await admin(patcher)
        started = time.perf_counter()
        await log_in(logger, ADMIN_EMAIL, ADMIN_PASSWORD)
        login_time = time.perf_counter() - started
        raced = 0
        for trial in range(TRIALS):
            email = f"{change}{trial}@example.com"
            user = await register(patcher, email)
            target = f"/admin/users/{user['id']}"
            if change == "demote":
                promoted = await patcher.patch(
                    target, json={"roles": ["admin", "user"]}, headers=boss
                )
                assert promoted.status_code == 200
            body = {"is_active": False} if change == "deactivate" else {"roles": ["user"]}
            form = {"username": email, "password": PASSWORD}
            login = asyncio.create_task(logger.post("/auth/token", data=form))
            # Stagger the change across the login's run; what is asserted below
            # holds whatever the interleaving.
            await asyncio.sleep(login_time * 0.8 * trial / TRIALS)
            patched = await patcher.patch(target, json=body, headers=boss)
            assert patched.status_code == 200, patched.text
            response = await login
            if response.status_code != 200:
                assert change == "deactivate"  # the login read the deactivated account
                continue
            tokens = response.json()
            # Tokens of an inactive account, or with the admin role: issued from what
            # the login read before the change committed.
            raced += change == "deactivate" or auth_roles(tokens) != ["user"]
            for client in (patcher, logger):
                await assert_no_old_access(client, tokens, change, target)
        # The race was run, not only the easy orders.
        assert raced >= 1


def auth_roles(tokens: dict[str, Any]) -> list[str]:
    """The roles an access token carries (its payload, unverified)."""
    payload = tokens["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return sorted(claims["roles"])


async def assert_no_old_access(
    client: httpx.AsyncClient, tokens: dict[str, Any], change: str, target: str
) -> None:
    headers = bearer(tokens)
    admin_only = await client.get("/admin/todos", headers=headers)
    assert admin_only.status_code in (401, 403)
    self_promotion = await client.patch(
        target, json={"roles": ["admin", "user"], "is_active": True}, headers=headers
    )
    assert self_promotion.status_code in (401, 403)
    todos = await client.get("/todos", headers=headers)
    if change == "deactivate" or auth_roles(tokens) != ["user"]:
        assert todos.status_code == 401
    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    if change == "deactivate":
        assert refreshed.status_code == 401
    elif refreshed.status_code == 200:
        assert auth_roles(refreshed.json()) == ["user"]


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    client: httpx.AsyncClient,
) -> None:
    boss = await admin(client)
    me = (await client.get("/users/me", headers=boss)).json()
    for body in ({"roles": ["user"]}, {"is_active": False}, {"roles": []}):
        refused = await client.patch(f"/admin/users/{me['id']}", json=body, headers=boss)
        assert refused.status_code == 409, body
        assert refused.json()["code"] == "conflict"
    # The refusals changed nothing and ended no session.
    assert (await client.get("/users/me", headers=boss)).json()["roles"] == ["admin", "user"]
    other = await register(client, "deputy@example.com")
    promote = await client.patch(
        f"/admin/users/{other['id']}", json={"roles": ["admin", "user"]}, headers=boss
    )
    assert promote.status_code == 200
    stepped_down = await client.patch(
        f"/admin/users/{me['id']}", json={"roles": ["user"]}, headers=boss
    )
    assert stepped_down.status_code == 200  # another admin remains


async def test_an_admin_demoted_meanwhile_cannot_finish_a_change(
    client: httpx.AsyncClient, backends: Backends
) -> None:
    # Its token still says admin (the demotion below does not revoke it): the role is
    # checked again once the change holds the lock, as a change queued behind the
    # demotion would be.
    boss = await admin(client)
    deputy = await register(client, "deputy@example.com")
    target = await register(client, "target@example.com")
    await client.patch(
        f"/admin/users/{deputy['id']}", json={"roles": ["admin", "user"]}, headers=boss
    )
    deputy_token = bearer(await log_in(client, "deputy@example.com"))
    database = Database(backends.database_url)
    try:
        async with database.transaction() as session:
            (await session.get(User, deputy["id"])).roles = ["user"]  # type: ignore[union-attr]
    finally:
        await database.dispose()
    refused = await client.patch(
        f"/admin/users/{target['id']}", json={"roles": ["admin", "user"]}, headers=deputy_token
    )
    assert refused.status_code == 403
    assert (await client.get("/users/me", headers=boss)).status_code == 200
    target_now = await log_in(client, "target@example.com")
    assert auth_roles(target_now) == ["user"]


async def test_two_admins_demoting_each_other_at_once_leave_one(
    client: httpx.AsyncClient,
) -> None:
    boss = await admin(client)
    me = (await client.get("/users/me", headers=boss)).json()
    other = await register(client, "rival@example.com")
    await client.patch(
        f"/admin/users/{other['id']}", json={"roles": ["admin", "user"]}, headers=boss
    )
    rival = bearer(await log_in(client, "rival@example.com"))
    first, second = await gather(
        client.patch(f"/admin/users/{other['id']}", json={"is_active": False}, headers=boss),
        client.patch(f"/admin/users/{me['id']}", json={"roles": ["user"]}, headers=rival),
    )
    # Whoever comes second is no longer an admin: its token was revoked (401), or the
    # check under the lock refuses it (403).
    assert sorted((first.status_code, second.status_code)) in ([200, 401], [200, 403])
    remaining = 0
    for email, password in ((ADMIN_EMAIL, ADMIN_PASSWORD), ("rival@example.com", PASSWORD)):
        login = await client.post("/auth/token", data={"username": email, "password": password})
        if login.status_code == 200:
            access = bearer(login.json())
            remaining += (await client.get("/admin/todos", headers=access)).status_code == 200
    assert remaining == 1
