"""Admin routes, and what a role change or a deactivation does to existing sessions."""

from __future__ import annotations

import httpx
from todo_app_helpers import ADMIN_EMAIL, PASSWORD, admin, bearer, log_in, new_user, register


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
