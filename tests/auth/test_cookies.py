"""Cookie sessions: HttpOnly session cookie, readable CSRF cookie, double-submit checks."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from starlette.requests import Request

from auth.app import Directory, add_user, bearer, make_app, settings
from fastapi_kit.auth import Auth, AuthConfig, SigningKey
from fastapi_kit.errors import CSRFFailed
from fastapi_kit.testing import app_client

FORM = {"username": "user1@example.com", "password": "correct horse battery staple"}


def set_cookies(response: object) -> dict[str, str]:
    return {
        header.split("=", 1)[0]: header
        for header in response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    }


async def test_cookie_login_sets_a_session_and_a_csrf_cookie() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app, base_url="https://testserver") as client:
        response = await client.post("/auth/cookie/login", data=FORM)
    assert response.status_code == 204
    assert response.headers["cache-control"] == "no-store"
    cookies = set_cookies(response)
    # Secure and host-only: the __Host- prefix, which subdomains cannot overwrite.
    session, csrf = (
        SimpleCookie(cookies["__Host-session"])["__Host-session"],
        SimpleCookie(cookies["__Host-csrf_token"])["__Host-csrf_token"],
    )
    assert session["httponly"] is True
    assert session["secure"] is True
    assert session["samesite"] == "lax"
    assert session["max-age"] == "900"
    assert session["path"] == "/"
    assert csrf["httponly"] == ""  # scripts must read it to send it back
    assert csrf["secure"] is True
    assert len(csrf.value) >= 32
    assert auth.tokens.decode(session.value, "access").subject == "1"


async def test_safe_requests_need_only_the_cookie_unsafe_ones_the_csrf_header_too() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app, base_url="https://testserver") as client:
        await client.post("/auth/cookie/login", data=FORM)
        csrf = client.cookies["__Host-csrf_token"]
        read = await client.get("/me")
        missing = await client.post("/me/notes")
        wrong = await client.post("/me/notes", headers={"X-CSRF-Token": "guess" + csrf[5:]})
        right = await client.post("/me/notes", headers={"X-CSRF-Token": csrf})
    assert read.json()["id"] == "1"
    for refused in (missing, wrong):
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "csrf_failed"
    assert right.status_code == 201


async def test_a_bearer_header_wins_over_cookies_and_needs_no_csrf() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    await add_user(directory, auth, 2)
    token = auth.tokens.issue_pair("2", ["user"]).access_token
    async with app_client(app, base_url="https://testserver") as client:
        await client.post("/auth/cookie/login", data=FORM)
        response = await client.post("/me/notes", headers=bearer(token))
    assert response.json() == {"owner": "2"}


async def test_a_forged_session_cookie_is_a_401() -> None:
    app, _ = make_app(Directory())
    async with app_client(app, cookies={"__Host-session": "forged.cookie.value"}) as client:
        response = await client.get("/me")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_cookie_logout_clears_the_cookies_and_revokes_the_session() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app, base_url="https://testserver") as client:
        await client.post("/auth/cookie/login", data=FORM)
        session = client.cookies["__Host-session"]
        csrf = client.cookies["__Host-csrf_token"]
        without_csrf = await client.post("/auth/cookie/logout")
        logout = await client.post("/auth/cookie/logout", headers={"X-CSRF-Token": csrf})
        cleared = set_cookies(logout)
        client.cookies.set("__Host-session", session)  # an attacker who copied the cookie
        replay = await client.get("/me")
    assert without_csrf.status_code == 403
    assert logout.status_code == 204
    for name in ("__Host-session", "__Host-csrf_token"):
        assert "Max-Age=0" in cleared[name] or "max-age=0" in cleared[name].lower()
    assert replay.status_code == 401  # a copied cookie is worthless after logout


@pytest.mark.parametrize("secure", [True, False])
async def test_the_secure_flag_and_the_host_prefix_follow_the_settings(secure: bool) -> None:
    directory = Directory()
    app, auth = make_app(directory, settings(auth_cookie_secure=secure))
    await add_user(directory, auth, 1)
    async with app_client(app) as client:
        response = await client.post("/auth/cookie/login", data=FORM)
    name = "__Host-session" if secure else "session"  # the prefix needs Secure
    cookie = SimpleCookie(set_cookies(response)[name])[name]
    assert (cookie["secure"] is True) is secure
    assert cookie["path"] == "/"
    assert not cookie["domain"]  # host-only, as the prefix requires


async def test_a_cookie_domain_drops_the_host_prefix() -> None:
    config = AuthConfig(signing_key=SigningKey("s" * 32), cookie_domain="example.com")
    assert (config.session_cookie, config.csrf_cookie) == ("session", "csrf_token")


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://testserver.evil.example"},
        {"Origin": "http://testserver"},  # another scheme is another origin
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain, without an Origin
    ],
)
async def test_cross_site_cookie_logins_and_logouts_are_refused(headers: dict[str, str]) -> None:
    # Login CSRF: another site's form would log the victim into the attacker's account.
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app, base_url="https://testserver") as client:
        login = await client.post("/auth/cookie/login", data=FORM, headers=headers)
        assert "set-cookie" not in login.headers
        await client.post("/auth/cookie/login", data=FORM)  # a genuine session
        csrf = client.cookies["__Host-csrf_token"]
        logout = await client.post("/auth/cookie/logout", headers={"X-CSRF-Token": csrf, **headers})
        still_in = await client.get("/me")
    for refused in (login, logout):
        assert refused.status_code == 403
        assert refused.json()["code"] == "csrf_failed"
    assert still_in.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://testserver"},
        {"Origin": "https://TESTSERVER:443"},
        {"Sec-Fetch-Site": "none"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://app.example.com"},  # trusted
    ],
)
async def test_same_origin_and_trusted_cookie_logins_pass(headers: dict[str, str]) -> None:
    directory = Directory()
    app, auth = make_app(directory, settings(cors_origins=["https://app.example.com"]))
    await add_user(directory, auth, 1)
    async with app_client(app, base_url="https://testserver") as client:
        login = await client.post("/auth/cookie/login", data=FORM, headers=headers)
    assert login.status_code == 204


@pytest.mark.parametrize(
    "headers",
    [
        [(b"host", b"x.example"), (b"origin", b"https://x.example:99999")],  # no such port
        [(b"host", b"x.example"), (b"origin", b"https://user@x.example")],
        [(b"origin", b"https://x.example")],  # no Host to compare with
    ],
)
def test_origins_that_cannot_be_compared_are_refused(headers: list[tuple[bytes, bytes]]) -> None:
    auth = Auth(AuthConfig(signing_key=SigningKey("s" * 32), claims_only=True))
    scope = {"type": "http", "method": "POST", "scheme": "https", "path": "/", "headers": headers}
    with pytest.raises(CSRFFailed):
        auth.cookie.check_origin(Request(scope))
