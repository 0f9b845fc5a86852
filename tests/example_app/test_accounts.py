"""Registration, logins, refresh rotation, logout, cookie sessions, /users/me."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from todo_app_helpers import PASSWORD, bearer, log_in, new_user, register

if TYPE_CHECKING:
    from conftest import StartApp


async def test_registration_creates_a_user_with_a_normalized_email(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client, "Alice@Example.COM")
    assert set(user) == {"id", "email", "roles", "is_active", "is_verified", "created_at"}
    assert user["email"] == "alice@example.com"
    assert user["roles"] == ["user"]
    assert user["is_active"] is True
    assert user["created_at"].endswith("Z")


async def test_an_email_registers_once_whatever_its_case(client: httpx.AsyncClient) -> None:
    await register(client, "bob@example.com")
    again = await client.post(
        "/auth/register", json={"email": "BOB@example.com", "password": PASSWORD}
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "conflict"


async def test_registration_rules(client: httpx.AsyncClient) -> None:
    cases = [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@example.com", "password": "short"},
        {"email": "a@example.com", "password": "x" * 129},
        {"email": "a@example.com", "password": "password123"},  # among the most common
        {"email": "a@example.com"},
        {"email": "a@example.com", "password": PASSWORD, "roles": ["admin"]},  # no escalation
    ]
    for body in cases:
        response = await client.post("/auth/register", json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
        assert "password123" not in response.text
        assert PASSWORD not in response.text


async def test_login_returns_an_oauth2_token_pair(client: httpx.AsyncClient) -> None:
    await register(client, "carol@example.com")
    response = await client.post(
        "/auth/token", data={"username": "CAROL@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    me = await client.get("/users/me", headers=bearer(tokens))
    assert me.json()["email"] == "carol@example.com"


async def test_wrong_email_and_wrong_password_look_the_same(client: httpx.AsyncClient) -> None:
    await register(client, "dave@example.com")
    wrong_password = await client.post(
        "/auth/token", data={"username": "dave@example.com", "password": "not the password"}
    )
    unknown_email = await client.post(
        "/auth/token", data={"username": "nobody@example.com", "password": PASSWORD}
    )
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    def comparable(response: httpx.Response) -> dict[str, object]:
        body = response.json()
        return {k: v for k, v in body.items() if k != "request_id"}

    assert comparable(wrong_password) == comparable(unknown_email)
    assert comparable(unknown_email)["code"] == "invalid_credentials"


async def test_login_fields_with_nul_or_out_of_bounds_are_422s(client: httpx.AsyncClient) -> None:
    # PostgreSQL refuses NUL in text: it must never reach the database as a lookup.
    await register(client, "nul@example.com")
    for form in (
        {"username": "nul\x00@example.com", "password": PASSWORD},
        {"username": "nul@example.com\x1b", "password": PASSWORD},
        {"username": "x" * 321, "password": PASSWORD},
        {"username": "nul@example.com", "password": "p" * 1025},
        {"username": "", "password": PASSWORD},
    ):
        for route in ("/auth/token", "/auth/cookie/login"):
            response = await client.post(route, data=form)
            assert response.status_code == 422, (route, response.text)
            assert response.json()["code"] == "validation_error"
            assert PASSWORD not in response.text


async def test_refresh_rotates_and_reuse_ends_the_session(client: httpx.AsyncClient) -> None:
    await register(client, "erin@example.com")
    first = await log_in(client, "erin@example.com")
    second = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert (await client.get("/users/me", headers=bearer(pair))).status_code == 200

    reused = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["code"] == "invalid_token"
    # The reuse revoked the whole family: the newer refresh token is dead too.
    newer = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert newer.status_code == 401


async def test_refresh_refuses_access_tokens_and_garbage(client: httpx.AsyncClient) -> None:
    await register(client, "fay@example.com")
    tokens = await log_in(client, "fay@example.com")
    for token in (tokens["access_token"], "not.a.token", "x" * 5000):
        response = await client.post("/auth/refresh", json={"refresh_token": token})
        assert response.status_code in {401, 422}
        assert response.headers["content-type"] == "application/problem+json"


async def test_logout_ends_the_access_token_and_its_refresh_tokens(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "gus@example.com")
    tokens = await log_in(client, "gus@example.com")
    other_session = await log_in(client, "gus@example.com")
    response = await client.post("/auth/logout", headers=bearer(tokens))
    assert response.status_code == 204
    after = await client.get("/users/me", headers=bearer(tokens))
    assert after.status_code == 401
    assert after.json()["code"] == "invalid_token"
    refresh = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    # Another login of the same user is another session: it goes on.
    assert (await client.get("/users/me", headers=bearer(other_session))).status_code == 200


async def test_cookie_sessions_need_the_csrf_header_for_writes(client: httpx.AsyncClient) -> None:
    await register(client, "hal@example.com")
    login = await client.post(
        "/auth/cookie/login", data={"username": "hal@example.com", "password": PASSWORD}
    )
    assert login.status_code == 204
    cookies = {cookie.name: cookie for cookie in client.cookies.jar}
    assert {"session", "csrf_token"} <= set(cookies)
    set_cookie = login.headers.get_list("set-cookie")
    session_cookie = next(value for value in set_cookie if value.startswith("session="))
    csrf_cookie = next(value for value in set_cookie if value.startswith("csrf_token="))
    assert "HttpOnly" in session_cookie
    assert "samesite=lax" in session_cookie.lower()
    assert "HttpOnly" not in csrf_cookie

    assert (await client.get("/users/me")).status_code == 200
    refused = await client.post("/todos", json={"title": "via cookie"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    csrf = {"X-CSRF-Token": cookies["csrf_token"].value}
    assert (
        await client.post("/todos", json={"title": "via cookie"}, headers=csrf)
    ).status_code == 201

    assert (await client.post("/auth/cookie/logout")).status_code == 403  # CSRF applies
    out = await client.post("/auth/cookie/logout", headers=csrf)
    assert out.status_code == 204
    assert any(
        value.startswith('session=""') or "Max-Age=0" in value
        for value in out.headers.get_list("set-cookie")
    )
    client.cookies.set("session", cookies["session"].value)  # a copy of the old cookie
    assert (await client.get("/users/me")).status_code == 401  # revoked, not just cleared


async def test_another_site_cannot_log_a_browser_in_or_out(start_app: StartApp) -> None:
    async with start_app(auth_cookie_secure=True) as client:
        await register(client, "victim@example.com")
        form = {"username": "victim@example.com", "password": PASSWORD}
        evil = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
        forged = await client.post("/auth/cookie/login", data=form, headers=evil)
        own = await client.post(
            "/auth/cookie/login",
            data=form,
            headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        )
    assert forged.status_code == 403
    assert forged.json()["code"] == "csrf_failed"
    assert "set-cookie" not in forged.headers
    assert own.status_code == 204
    names = {header.split("=", 1)[0] for header in own.headers.get_list("set-cookie")}
    assert names == {"__Host-session", "__Host-csrf_token"}


async def test_me_needs_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"
    forged = await client.get("/users/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401
    assert forged.json()["code"] == "invalid_token"


async def test_users_see_only_themselves(client: httpx.AsyncClient) -> None:
    ivy = await new_user(client, "ivy@example.com")
    jon = await new_user(client, "jon@example.com")
    assert (await client.get("/users/me", headers=ivy)).json()["email"] == "ivy@example.com"
    assert (await client.get("/users/me", headers=jon)).json()["email"] == "jon@example.com"
