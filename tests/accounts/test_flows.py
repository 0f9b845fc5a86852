"""The account routers end to end over HTTP: every flow, on SQLite and process memory."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pyotp
import pytest

from accounts.app import (
    NEW_PASSWORD,
    PASSWORD,
    AccountsApp,
    User,
    bearer,
    log_in,
    make_app,
    register,
    token_of,
)
from fastapi_kit.accounts import SQLAlchemyUserStore
from fastapi_kit.mail import MemoryMailSender
from fastapi_kit.testing import app_client
from helpers import LogCapture


@pytest.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[tuple[AccountsApp, httpx.AsyncClient]]:
    built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}")
    async with app_client(built.app) as client:
        yield built, client


def sent(built: AccountsApp) -> MemoryMailSender:
    assert isinstance(built.mail, MemoryMailSender)
    return built.mail


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_register_then_verify_with_the_mailed_token(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    built, client = accounts
    user = await register(client, "Ada@Example.com")
    assert (user["email"], user["is_verified"], user["roles"]) == (
        "ada@example.com",
        False,
        ["user"],
    )
    [mail] = sent(built).sent
    assert mail.to == "ada@example.com"
    token = token_of(mail)
    assert f"https://app.example.com/verify-email#token={token}" in mail.text
    assert mail.html is not None
    verified = await client.post("/auth/verify", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["is_verified"] is True
    problem(await client.post("/auth/verify", json={"token": token}), 400, "bad_token")


async def test_verification_requests_look_the_same_whatever_the_account(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    built, client = accounts
    await register(client, "unverified@example.com")
    await register(client, "verified@example.com")
    token = token_of(sent(built).sent[-1])
    assert (await client.post("/auth/verify", json={"token": token})).status_code == 200
    sent(built).sent.clear()
    answers = [
        await client.post("/auth/verify/request", json={"email": email})
        for email in ("unverified@example.com", "verified@example.com", "nobody@example.com")
    ]
    assert {(r.status_code, r.text) for r in answers} == {(202, answers[0].text)}
    assert [m.to for m in sent(built).sent] == ["unverified@example.com"]


async def test_forgot_and_reset_end_every_session_and_the_old_password(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    built, client = accounts
    await register(client, "bob@example.com")
    tokens = (await log_in(client, "bob@example.com")).json()
    unknown = await client.post("/auth/forgot-password", json={"email": "nobody@example.com"})
    known = await client.post("/auth/forgot-password", json={"email": "BOB@example.com"})
    assert (
        (known.status_code, known.text) == (unknown.status_code, unknown.text) == (202, known.text)
    )
    mail = sent(built).sent[-1]
    assert (mail.to, mail.subject) == ("bob@example.com", "Reset your password")
    token = token_of(mail)
    weak = await client.post("/auth/reset-password", json={"token": token, "password": "password"})
    problem(weak, 422, "validation_error")  # the token is not used up by a refused password
    reset = await client.post(
        "/auth/reset-password", json={"token": token, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 204, reset.text
    problem(await client.get("/users/me", headers=bearer(tokens)), 401, "invalid_token")
    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    problem(refreshed, 401, "invalid_token")
    problem(await log_in(client, "bob@example.com"), 401, "invalid_credentials")
    assert (await log_in(client, "bob@example.com", NEW_PASSWORD)).status_code == 200
    again = await client.post("/auth/reset-password", json={"token": token, "password": PASSWORD})
    problem(again, 400, "bad_token")


async def test_a_reset_link_dies_when_the_password_changes(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    built, client = accounts
    await register(client, "carol@example.com")
    await client.post("/auth/forgot-password", json={"email": "carol@example.com"})
    first = token_of(sent(built).sent[-1])
    await client.post("/auth/forgot-password", json={"email": "carol@example.com"})
    second = token_of(sent(built).sent[-1])
    body = {"token": second, "password": NEW_PASSWORD}
    assert (await client.post("/auth/reset-password", json=body)).status_code == 204
    body = {"token": first, "password": "yet another passphrase"}
    problem(await client.post("/auth/reset-password", json=body), 400, "bad_token")


async def test_tokens_of_another_purpose_are_bad_tokens(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    built, client = accounts
    await register(client, "dan@example.com")
    verify_token = token_of(sent(built).sent[-1])
    await client.post("/auth/forgot-password", json={"email": "dan@example.com"})
    reset_token = token_of(sent(built).sent[-1])
    access = (await log_in(client, "dan@example.com")).json()["access_token"]
    for token in (reset_token, access, verify_token[:-2] + "xx", "not-a-token"):
        problem(await client.post("/auth/verify", json={"token": token}), 400, "bad_token")
    for token in (verify_token, access):
        body = {"token": token, "password": NEW_PASSWORD}
        problem(await client.post("/auth/reset-password", json=body), 400, "bad_token")
    # Still unused: each refusal above left them as they were.
    assert (await client.post("/auth/verify", json={"token": verify_token})).status_code == 200


async def test_twenty_parallel_resets_with_one_token_let_one_through(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    built, client = accounts
    await register(client, "erin@example.com")
    await client.post("/auth/forgot-password", json={"email": "erin@example.com"})
    token = token_of(sent(built).sent[-1])
    answers = await asyncio.gather(
        *(
            client.post(
                "/auth/reset-password", json={"token": token, "password": f"{NEW_PASSWORD} {i}"}
            )
            for i in range(20)
        )
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(204) <= 1
    assert set(statuses) <= {204, 400}
    winners = [i for i, r in enumerate(answers) if r.status_code == 204]
    logins = [
        (await log_in(client, "erin@example.com", f"{NEW_PASSWORD} {i}")).status_code
        for i in range(20)
    ]
    assert [i for i, status in enumerate(logins) if status == 200] == winners


async def test_change_password_needs_the_current_one_and_ends_older_tokens(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    _, client = accounts
    await register(client, "fay@example.com")
    old = (await log_in(client, "fay@example.com")).json()
    wrong = await client.post(
        "/users/me/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=bearer(old),
    )
    problem(wrong, 400, "invalid_credentials")
    changed = await client.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(old),
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["cache-control"] == "no-store"
    problem(await client.get("/users/me", headers=bearer(old)), 401, "invalid_token")
    me = await client.get("/users/me", headers=bearer(changed.json()))
    assert me.json()["email"] == "fay@example.com"
    assert (await log_in(client, "fay@example.com", NEW_PASSWORD)).status_code == 200


async def test_logout_all_ends_every_session(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    _, client = accounts
    await register(client, "gus@example.com")
    first, second = [(await log_in(client, "gus@example.com")).json() for _ in range(2)]
    assert (await client.post("/auth/logout-all", headers=bearer(first))).status_code == 204
    for tokens in (first, second):
        problem(await client.get("/users/me", headers=bearer(tokens)), 401, "invalid_token")
        body = {"refresh_token": tokens["refresh_token"]}
        problem(await client.post("/auth/refresh", json=body), 401, "invalid_token")
    assert (await log_in(client, "gus@example.com")).status_code == 200


async def enrol(
    client: httpx.AsyncClient, email: str
) -> tuple[pyotp.TOTP, list[str], dict[str, str]]:
    await register(client, email)
    headers = bearer((await log_in(client, email)).json())
    started = await client.post("/users/me/mfa/totp", headers=headers)
    assert started.status_code == 200, started.text
    assert started.headers["cache-control"] == "no-store"
    secret = started.json()["secret"]
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(secret)
    # Not on before it is confirmed.
    assert (await log_in(client, email)).status_code == 200
    problem(
        await client.post("/users/me/mfa/totp/confirm", json={"code": "000000"}, headers=headers),
        400,
        "bad_token",
    )
    confirmed = await client.post(
        "/users/me/mfa/totp/confirm", json={"code": totp.now()}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(set(codes)) == 10
    return totp, codes, headers


async def test_totp_login_needs_a_fresh_code_once(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    _, client = accounts
    totp, codes, headers = await enrol(client, "hal@example.com")
    problem(await log_in(client, "hal@example.com"), 401, "mfa_required")
    problem(await log_in(client, "hal@example.com", "wrong password!"), 401, "invalid_credentials")
    problem(await log_in(client, "hal@example.com", otp="123456"), 401, "invalid_credentials")
    # The confirmation's code is spent; the next step's is accepted (clock drift), once.
    upcoming = totp.at(time.time() + 30)
    assert (await log_in(client, "hal@example.com", otp=upcoming)).status_code == 200
    problem(await log_in(client, "hal@example.com", otp=upcoming), 401, "invalid_credentials")
    recovery = codes[0]
    assert (await log_in(client, "hal@example.com", otp=recovery.upper())).status_code == 200
    problem(await log_in(client, "hal@example.com", otp=recovery), 401, "invalid_credentials")
    cookie = await client.post(
        "/auth/cookie/login", data={"username": "hal@example.com", "password": PASSWORD}
    )
    problem(cookie, 401, "mfa_required")
    problem(
        await client.request(
            "DELETE", "/users/me/mfa/totp", json={"code": recovery}, headers=headers
        ),
        400,
        "bad_token",
    )
    off = await client.request(
        "DELETE", "/users/me/mfa/totp", json={"code": codes[1]}, headers=headers
    )
    assert off.status_code == 204, off.text
    assert (await log_in(client, "hal@example.com")).status_code == 200


async def test_verified_email_required(tmp_path: Path) -> None:
    built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", require_verified_email=True)
    async with app_client(built.app) as client:
        await register(client, "ivy@example.com")
        problem(await log_in(client, "ivy@example.com"), 403, "email_not_verified")
        problem(
            await log_in(client, "ivy@example.com", "wrong password!"), 401, "invalid_credentials"
        )
        problem(await log_in(client, "nobody@example.com"), 401, "invalid_credentials")
        token = token_of(sent(built).sent[-1])
        assert (await client.post("/auth/verify", json={"token": token})).status_code == 200
        assert (await log_in(client, "ivy@example.com")).status_code == 200


@pytest.mark.parametrize(
    "variant",
    [
        "JOSÉ@EXAMPLE.COM",  # case
        "jose\u0301@example.com",  # NFD
        "jos\u00e9@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # fullwidth (NFKC)
        "jos\u00e9@ex\u0430mple.com",  # a Cyrillic a
    ],
)
async def test_look_alike_addresses_are_one_account(
    accounts: tuple[AccountsApp, httpx.AsyncClient], variant: str
) -> None:
    _, client = accounts
    await register(client, "josé@example.com")
    again = await client.post("/auth/register", json={"email": variant, "password": PASSWORD})
    problem(again, 409, "conflict")
    logged_in = await log_in(client, variant)
    assert logged_in.status_code == 200, logged_in.text
    me = await client.get("/users/me", headers=bearer(logged_in.json()))
    assert me.json()["email"] == "josé@example.com"


async def test_bad_input_gets_a_4xx_problem(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    _, client = accounts
    huge = {"email": "a@example.com", "password": "x" * (1024 * 1024)}
    problem(await client.post("/auth/register", json=huge), 413, "payload_too_large")
    problem(
        await client.post("/auth/forgot-password", json={"email": "not an address"}),
        422,
        "validation_error",
    )
    problem(await client.post("/auth/verify", json={"token": ""}), 422, "validation_error")
    problem(await client.post("/auth/verify", json={"token": "x" * 5000}), 422, "validation_error")
    problem(
        await client.post(
            "/auth/verify/request", content=b"{", headers={"content-type": "application/json"}
        ),
        422,
        "validation_error",
    )


async def test_tokens_and_secrets_never_reach_the_log(tmp_path: Path) -> None:
    built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    logs = LogCapture()  # after the app configured logging
    async with app_client(built.app) as client:
        await register(client, "kim@example.com")
        verify_token = token_of(sent(built).sent[-1])
        await client.post("/auth/verify", json={"token": verify_token})
        await client.post("/auth/verify", json={"token": verify_token})
        await client.post("/auth/forgot-password", json={"email": "kim@example.com"})
        reset_token = token_of(sent(built).sent[-1])
        await client.post(
            "/auth/reset-password", json={"token": reset_token, "password": NEW_PASSWORD}
        )
        totp, codes, _ = await enrol(client, "lee@example.com")
    text = logs.text
    assert "purpose_token_used" in text  # the log was captured
    for secret in (verify_token, reset_token, totp.secret, *codes, NEW_PASSWORD, PASSWORD):
        assert secret not in text


# --- the edges a review found ------------------------------------------------------


async def test_a_password_change_racing_a_demotion_does_not_keep_the_old_roles(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    built, client = accounts
    await register(client, "max@example.com")
    kit = built.kit
    assert kit.accounts is not None
    assert kit.auth is not None
    assert kit.database is not None
    async with kit.database.transaction() as session:
        store = SQLAlchemyUserStore(session, User)
        user = await store.get("1")
        assert user is not None
        await store.update(user, roles=["admin", "user"])
        me = await store.get("1")  # what the request read, before...
        assert me is not None
        # ...an admin's demotion, committed before the change's tokens are issued.
        async with kit.database.transaction() as other, kit.auth.revoking_user("1"):
            demoted = await other.get(User, 1)
            assert demoted is not None
            demoted.roles = ["user"]
            await other.commit()
        pair = await kit.accounts.change_password(store, me, PASSWORD, NEW_PASSWORD)
    assert pair.access.roles == frozenset({"user"})


async def test_a_totp_secret_from_another_secret_key_is_a_wrong_code(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    async with app_client(make_app(url).app) as client:
        totp, codes, _ = await enrol(client, "ned@example.com")
    rotated = make_app(url, secret_key="another-secret-key-0123456789-abcdefgh")
    logs = LogCapture()
    async with app_client(rotated.app) as client:
        for code in (totp.now(), codes[0]):
            answer = await log_in(client, "ned@example.com", otp=code)
            problem(answer, 401, "invalid_credentials")
    # Logged once per attempt (a recovery code is tried after the TOTP secret).
    assert [e["user_id"] for e in logs.named("totp_secret_undecryptable")] == ["1", "1"]


@pytest.mark.parametrize("route", ["register", "reset", "change"])
async def test_a_lone_surrogate_in_a_new_password_is_a_422(
    accounts: tuple[AccountsApp, httpx.AsyncClient], route: str
) -> None:
    built, client = accounts
    await register(client, "oz@example.com")
    bad = "a long password \ud800"  # valid JSON (an escaped surrogate), not UTF-8
    headers = {"content-type": "application/json"}
    if route == "register":
        path, body = "/auth/register", {"email": "p@example.com", "password": bad}
    elif route == "reset":
        await client.post("/auth/forgot-password", json={"email": "oz@example.com"})
        path = "/auth/reset-password"
        body = {"token": token_of(sent(built).sent[-1]), "password": bad}
    else:
        headers |= bearer((await log_in(client, "oz@example.com")).json())
        path, body = "/users/me/password", {"current_password": PASSWORD, "new_password": bad}
    answer = await client.post(path, content=json.dumps(body).encode(), headers=headers)
    problem(answer, 422, "validation_error")


async def test_two_reset_links_of_one_password_used_at_once_change_it_once(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    built, client = accounts
    await register(client, "pia@example.com")
    tokens = []
    for _ in range(2):
        await client.post("/auth/forgot-password", json={"email": "pia@example.com"})
        tokens.append(token_of(sent(built).sent[-1]))
    answers = await asyncio.gather(
        *(
            client.post(
                "/auth/reset-password", json={"token": t, "password": f"{NEW_PASSWORD} {i}"}
            )
            for i, t in enumerate(tokens)
        )
    )
    assert sorted(a.status_code for a in answers) == [204, 400]
    [winner] = [i for i, a in enumerate(answers) if a.status_code == 204]
    assert (await log_in(client, "pia@example.com", f"{NEW_PASSWORD} {winner}")).status_code == 200


async def test_spellings_and_content_types_share_one_mail_budget(tmp_path: Path) -> None:
    built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", rate_limit_auth="3/minute")
    async with app_client(built.app) as client:
        sends = [
            ("application/json", "rob@example.com"),
            ("application/merge-patch+json", "ROB@example.com"),
            ("Application/JSON", "r\u043eb@example.com"),  # a Cyrillic o
            ("application/json", "rob@example.com"),
        ]
        statuses = [
            (
                await client.post(
                    "/auth/forgot-password",
                    content=f'{{"email": "{email}"}}'.encode(),
                    headers={"content-type": content_type, "x-forwarded-for": f"10.0.0.{i}"},
                )
            ).status_code
            for i, (content_type, email) in enumerate(sends)
        ]
    assert statuses == [202, 202, 202, 429]


async def test_an_address_whose_key_is_too_long_is_a_422(
    accounts: tuple[AccountsApp, httpx.AsyncClient],
) -> None:
    _, client = accounts
    email = "\ufdfa" * 64 + "@example.com"  # NFKC: 18 characters each
    answer = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    problem(answer, 422, "validation_error")


async def test_unverified_logins_spend_no_recovery_code_and_refreshes_end(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    async with app_client(make_app(url).app) as client:
        _, codes, _ = await enrol(client, "sam@example.com")
        tokens = (await log_in(client, "sam@example.com", otp=codes[0])).json()
    strict = make_app(url, require_verified_email=True)
    async with app_client(strict.app) as client:
        problem(await log_in(client, "sam@example.com", otp=codes[1]), 403, "email_not_verified")
        body = {"refresh_token": tokens["refresh_token"]}
        problem(await client.post("/auth/refresh", json=body), 401, "invalid_token")
    async with app_client(make_app(url).app) as client:  # codes[1] was not spent
        assert (await log_in(client, "sam@example.com", otp=codes[1])).status_code == 200


async def test_logout_all_clears_a_browsers_cookies(tmp_path: Path) -> None:
    built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", auth_cookie_secure=False)
    async with app_client(built.app) as client:
        await register(client, "tia@example.com")
        form = {"username": "tia@example.com", "password": PASSWORD}
        assert (await client.post("/auth/cookie/login", data=form)).status_code == 204
        csrf = client.cookies["csrf_token"]
        answer = await client.post("/auth/logout-all", headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 204
        assert {c.split("=", 1)[0] for c in answer.headers.get_list("set-cookie")} == {
            "session",
            "csrf_token",
        }
        assert "csrf_token" not in client.cookies


async def test_a_password_change_keeps_a_cookie_session_signed_in(tmp_path: Path) -> None:
    built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", auth_cookie_secure=False)
    async with app_client(built.app) as client:
        await register(client, "uma@example.com")
        form = {"username": "uma@example.com", "password": PASSWORD}
        await client.post("/auth/cookie/login", data=form)
        old_session = client.cookies["session"]
        changed = await client.post(
            "/users/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers={"X-CSRF-Token": client.cookies["csrf_token"]},
        )
        assert changed.status_code == 200, changed.text
        assert client.cookies["session"] != old_session
        assert (await client.get("/users/me")).json()["email"] == "uma@example.com"
        client.cookies.set("session", old_session)
        problem(await client.get("/users/me"), 401, "invalid_token")


async def test_a_password_change_racing_a_reset_loses(
    accounts: tuple[AccountsApp, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Someone holding a session and the old password changes it while the owner
    # resets it to lock them out: the reset must win.
    built, client = accounts
    await register(client, "vic@example.com")
    intruder = bearer((await log_in(client, "vic@example.com")).json())
    await client.post("/auth/forgot-password", json={"email": "vic@example.com"})
    reset_token = token_of(sent(built).sent[-1])
    auth = built.kit.auth
    assert auth is not None
    hasher = auth.hasher
    hashing, resume = asyncio.Event(), asyncio.Event()
    real_hash = hasher.hash

    async def held_hash(password: str) -> str:
        hashed = await real_hash(password)
        if password == "the intruder's password":
            hashing.set()
            await resume.wait()  # until the owner's reset is through
        return hashed

    monkeypatch.setattr(hasher, "hash", held_hash)
    body = {"current_password": PASSWORD, "new_password": "the intruder's password"}
    change = asyncio.create_task(client.post("/users/me/password", json=body, headers=intruder))
    await hashing.wait()
    body = {"token": reset_token, "password": NEW_PASSWORD}
    assert (await client.post("/auth/reset-password", json=body)).status_code == 204
    resume.set()
    problem(await change, 400, "invalid_credentials")
    assert (await log_in(client, "vic@example.com", NEW_PASSWORD)).status_code == 200
    intruder_login = await log_in(client, "vic@example.com", "the intruder's password")
    problem(intruder_login, 401, "invalid_credentials")


async def test_a_login_upgrading_an_old_hash_never_undoes_a_reset(
    accounts: tuple[AccountsApp, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    built, client = accounts
    await register(client, "wyn@example.com")
    await client.post("/auth/forgot-password", json={"email": "wyn@example.com"})
    reset_token = token_of(sent(built).sent[-1])
    auth = built.kit.auth
    assert auth is not None
    hasher = auth.hasher
    checking, resume = asyncio.Event(), asyncio.Event()
    real_check = hasher.verify_and_update

    async def outdated(password: str, stored: str) -> tuple[bool, str | None]:
        matches, _ = await real_check(password, stored)
        checking.set()
        await resume.wait()  # until the reset is through
        return matches, (await real_hash(password)) if matches else None

    real_hash = hasher.hash
    monkeypatch.setattr(hasher, "verify_and_update", outdated)
    login = asyncio.create_task(log_in(client, "wyn@example.com"))
    await checking.wait()
    monkeypatch.setattr(hasher, "verify_and_update", real_check)
    body = {"token": reset_token, "password": NEW_PASSWORD}
    assert (await client.post("/auth/reset-password", json=body)).status_code == 204
    resume.set()
    assert (await login).status_code == 200  # it proved the password it was sent
    assert (await log_in(client, "wyn@example.com", NEW_PASSWORD)).status_code == 200
    problem(await log_in(client, "wyn@example.com"), 401, "invalid_credentials")
