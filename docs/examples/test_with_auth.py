"""Testing an app with the kit's auth: a fixed user, or real tokens."""

from auth_app import app, auth

from fastapi_kit.testing import app_client, auth_headers, override_current_user, token_user


async def test_admin_stats_as_a_fixed_user() -> None:
    """No tokens at all: every request is made by the given user."""
    async with app_client(app) as client:
        with override_current_user(app, token_user("1", ["admin"])):
            assert (await client.get("/admin/stats")).status_code == 200
        with override_current_user(app, token_user("2", ["user"])):
            assert (await client.get("/admin/stats")).status_code == 403


async def test_reports_with_a_real_token() -> None:
    """A real token through the whole check (signature, revocation, user loader)."""
    from auth_app import USERS, User

    USERS[7] = User(7, "auditor@example.com", "unused", roles=frozenset({"auditor"}))
    async with app_client(app) as client:
        response = await client.get("/reports", headers=auth_headers(auth, "7", ["auditor"]))
    assert response.json() == ["2026-q3"]
