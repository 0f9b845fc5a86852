"""Login, refresh rotation with reuse detection, logout and user-wide revocation over HTTP."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from passlib.hash import bcrypt

import fastapi_kit.auth.strategy
import fastapi_kit.auth.tokens
from auth.app import PASSWORD, Directory, add_user, bearer, make_app
from fastapi_kit.auth import (
    Auth,
    AuthConfig,
    LoginUser,
    MemoryRevocationStore,
    RevocationStoreError,
    SigningKey,
    TokenPair,
)
from fastapi_kit.errors import ServiceUnavailable
from fastapi_kit.testing import app_client
from helpers import LogCapture


def login_form(user_id: int = 1, password: str = PASSWORD) -> dict[str, str]:
    return {"username": f"user{user_id}@example.com", "password": password}


async def test_login_returns_a_token_pair_that_is_never_cached() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app) as client:
        response = await client.post("/auth/token", data=login_form())
        me = await client.get("/me", headers=bearer(response.json()["access_token"]))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert me.json() == {"id": "1", "roles": ["user"]}


async def test_unknown_user_wrong_password_and_inactive_account_look_the_same() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    await add_user(directory, auth, 2, active=False)
    async with app_client(app) as client:
        responses = [
            await client.post("/auth/token", data=form)
            for form in (
                {"username": "nobody@example.com", "password": PASSWORD},
                login_form(1, "wrong password entirely"),
                login_form(2),
            )
        ]
    bodies = []
    for response in responses:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        body.pop("request_id")
        bodies.append(body)
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["code"] == "invalid_credentials"
    assert bodies[0]["detail"] == "Incorrect username or password."


async def test_unknown_users_cost_a_password_check_too() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    checked: list[str] = []
    original = auth.hasher.verify_and_update

    async def counting_verify(password: str, stored: str) -> tuple[bool, str | None]:
        checked.append(stored)
        return await original(password, stored)

    auth.hasher.verify_and_update = counting_verify  # type: ignore[method-assign]
    async with app_client(app) as client:
        await client.post("/auth/token", data={"username": "ghost@example.com", "password": "x"})
    assert len(checked) == 1  # against a dummy hash made with the same parameters
    assert checked[0].startswith("$argon2id$")


async def test_a_bcrypt_hash_is_upgraded_at_login() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    user = await add_user(directory, auth, 1)
    user.password_hash = bcrypt.using(rounds=4).hash(PASSWORD)
    async with app_client(app) as client:
        response = await client.post("/auth/token", data=login_form())
    assert response.status_code == 200
    [(user_id, new_hash)] = directory.rehashed
    assert user_id == 1
    assert new_hash.startswith("$argon2id$")
    assert await auth.hasher.verify(PASSWORD, directory.users[1].password_hash)


async def test_refresh_rotates_and_reuse_kills_the_family() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app) as client:
        first = (await client.post("/auth/token", data=login_form())).json()
        second = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        assert second.headers["cache-control"] == "no-store"
        rotated = second.json()
        assert rotated["refresh_token"] != first["refresh_token"]
        assert (await client.get("/me", headers=bearer(rotated["access_token"]))).status_code == 200

        # The used refresh token again: an attacker, or the victim after a theft.
        reuse = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reuse.status_code == 401
        assert reuse.json()["code"] == "invalid_token"
        # Every token of that login is dead now, the rotated ones included.
        for token in (rotated["access_token"], first["access_token"]):
            assert (await client.get("/me", headers=bearer(token))).status_code == 401
        again = await client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
        assert again.status_code == 401
        # A new login starts a new family.
        fresh = (await client.post("/auth/token", data=login_form())).json()
        assert (await client.get("/me", headers=bearer(fresh["access_token"]))).status_code == 200


async def test_of_concurrent_refreshes_with_one_token_at_most_one_succeeds() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app) as client:
        pair = (await client.post("/auth/token", data=login_form())).json()
        responses = await asyncio.gather(
            *(
                client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
                for _ in range(10)
            )
        )
    assert [r.status_code for r in responses].count(200) <= 1
    assert {r.status_code for r in responses} <= {200, 401}


async def test_tokens_of_the_wrong_type_are_refused_at_both_ends() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    pair = auth.tokens.issue_pair("1", ["user"])
    async with app_client(app) as client:
        as_access = await client.get("/me", headers=bearer(pair.refresh_token))
        as_refresh = await client.post("/auth/refresh", json={"refresh_token": pair.access_token})
    assert as_access.json()["code"] == "invalid_token"
    assert as_refresh.json()["code"] == "invalid_token"


async def test_logout_ends_the_access_token_and_its_refresh_family() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app) as client:
        pair = (await client.post("/auth/token", data=login_form())).json()
        other = (await client.post("/auth/token", data=login_form())).json()  # another device
        logout = await client.post("/auth/logout", headers=bearer(pair["access_token"]))
        me = await client.get("/me", headers=bearer(pair["access_token"]))
        refresh = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        other_me = await client.get("/me", headers=bearer(other["access_token"]))
    assert logout.status_code == 204
    assert me.status_code == 401
    assert me.json()["detail"] == "Token revoked."
    assert me.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert refresh.status_code == 401
    assert other_me.status_code == 200  # logout ends one session, not all of them


async def test_revoking_a_user_ends_every_session_until_the_next_login() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    async with app_client(app) as client:
        pairs = [(await client.post("/auth/token", data=login_form())).json() for _ in range(2)]
        await auth.logout_everywhere("1")
        for pair in pairs:
            assert (
                await client.get("/me", headers=bearer(pair["access_token"]))
            ).status_code == 401
            refresh = await client.post(
                "/auth/refresh", json={"refresh_token": pair["refresh_token"]}
            )
            assert refresh.status_code == 401
        fresh = (await client.post("/auth/token", data=login_form())).json()
        assert (await client.get("/me", headers=bearer(fresh["access_token"]))).status_code == 200


async def test_unknown_and_deactivated_users_lose_access_at_once() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    await add_user(directory, auth, 2)
    tokens = {uid: auth.tokens.issue_pair(str(uid), ["user"]) for uid in (1, 2)}
    directory.users[1].is_active = False
    del directory.users[2]
    async with app_client(app) as client:
        for uid in (1, 2):
            me = await client.get("/me", headers=bearer(tokens[uid].access_token))
            assert me.status_code == 401
            assert me.json()["code"] == "invalid_token"
            refresh = await client.post(
                "/auth/refresh", json={"refresh_token": tokens[uid].refresh_token}
            )
            assert refresh.status_code == 401


async def test_refresh_picks_up_role_changes_from_the_user_loader() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    pair = auth.tokens.issue_pair("1", ["user"])
    directory.users[1].roles = frozenset({"admin"})
    async with app_client(app) as client:
        new = (
            await client.post("/auth/refresh", json={"refresh_token": pair.refresh_token})
        ).json()
    assert auth.tokens.decode(new["access_token"], "access").roles == frozenset({"admin"})


async def test_claims_only_mode_trusts_the_token_without_loading_users() -> None:
    app, auth = make_app(Directory(), claims_only=True)
    pair = auth.tokens.issue_pair("99", ["editor"])
    async with app_client(app) as client:
        me = await client.get("/me", headers=bearer(pair.access_token))
        editor = await client.get("/editor", headers=bearer(pair.access_token))
    assert me.json() == {"id": "99", "roles": ["editor"]}
    assert editor.status_code == 200


async def test_claims_only_refreshes_read_the_user_again() -> None:
    directory = Directory()
    app, auth = make_app(directory, claims_only=True)
    await add_user(directory, auth, 1)
    demoted = auth.tokens.issue_pair("1", ["admin"])  # roles the user no longer has
    unknown = auth.tokens.issue_pair("99", ["editor"])
    async with app_client(app) as client:
        refreshed = await client.post(
            "/auth/refresh", json={"refresh_token": demoted.refresh_token}
        )
        gone = await client.post("/auth/refresh", json={"refresh_token": unknown.refresh_token})
        directory.users[1].is_active = False
        again = await client.post(
            "/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]}
        )
    assert refreshed.status_code == 200
    assert auth.tokens.decode(refreshed.json()["access_token"], "access").roles == {"user"}
    assert gone.status_code == 401
    assert gone.json()["code"] == "invalid_token"
    assert again.status_code == 401  # deactivated: no new pair, ever


async def test_a_refresh_without_any_user_loader_is_a_set_up_error() -> None:
    auth = Auth(AuthConfig(signing_key=SigningKey("s" * 32), claims_only=True))
    pair = auth.tokens.issue_pair("1", ["user"])
    with pytest.raises(RuntimeError, match="user loader"):
        await auth.refresh(pair.refresh_token)


async def login_racing_a_demotion(
    directory: Directory, logging_in: Auth, demoting: Auth
) -> TokenPair:
    """User 1 logs in through ``logging_in`` while ``demoting`` demotes it from admin.

    The login reads the user, the change commits and revokes, then the login
    issues its tokens from what it read.
    """
    read, changed = asyncio.Event(), asyncio.Event()

    async def lookup_then_wait(email: str) -> LoginUser | None:
        user = await directory.lookup(email)
        snapshot = None if user is None else replace(user)  # what this request read
        read.set()
        await changed.wait()
        return snapshot

    async def demote() -> None:
        await read.wait()
        async with demoting.revoking_user("1"):
            directory.users[1].roles = frozenset({"user"})  # "committed"
        changed.set()

    pair, _ = await asyncio.gather(
        logging_in.login("user1@example.com", PASSWORD, lookup_then_wait), demote()
    )
    return pair


async def test_a_login_that_read_the_user_before_a_change_gets_tokens_that_are_refused() -> None:
    directory = Directory()
    app, auth = make_app(directory, claims_only=True)
    await add_user(directory, auth, 1, roles=("admin",))
    pair = await login_racing_a_demotion(directory, auth, auth)
    assert pair.access.roles == {"admin"}  # issued after the revocation, from the old read
    async with app_client(app) as client:
        me = await client.get("/me", headers=bearer(pair.access_token))
        refresh = await client.post("/auth/refresh", json={"refresh_token": pair.refresh_token})
    assert me.status_code == 401
    assert refresh.status_code == 401


async def test_instances_with_drifting_clocks_agree_on_what_a_revocation_covers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Instance B's clock runs 30 s ahead; the cut-off and the tokens' iat both come
    # from the shared store's clock, so B's racing login is still refused.
    directory = Directory()
    store = MemoryRevocationStore()  # shared, as Redis is
    instance_a, auth_a = make_app(directory, claims_only=True, revocation=store)
    _, auth_b = make_app(directory, claims_only=True, revocation=store)
    await add_user(directory, auth_a, 1, roles=("admin",))
    real_time = time.time

    class AheadClock:
        @staticmethod
        def time() -> float:
            return real_time() + 30

    with monkeypatch.context() as patched:
        patched.setattr(fastapi_kit.auth.strategy, "time", AheadClock)
        patched.setattr(fastapi_kit.auth.tokens, "time", AheadClock)
        pair = await login_racing_a_demotion(directory, auth_b, auth_a)
    async with app_client(instance_a) as client:
        admin_only = await client.get("/editor", headers=bearer(pair.access_token))
    assert admin_only.status_code == 401


@pytest.mark.parametrize("policy", ["fail_closed", "fail_open"])
async def test_the_clock_follows_the_revocation_policy_when_the_store_is_down(
    policy: str,
) -> None:
    class ClocklessStore(MemoryRevocationStore):
        async def now(self) -> float:
            raise RevocationStoreError("down")

    config = AuthConfig(
        signing_key=SigningKey("s" * 32),
        claims_only=True,
        revocation_policy=policy,  # type: ignore[arg-type]
    )
    auth = Auth(config, revocation=ClocklessStore())
    if policy == "fail_closed":
        with pytest.raises(ServiceUnavailable):
            await auth.strategy.now()
    else:
        assert abs(await auth.strategy.now() - time.time()) < 1  # this process's clock


async def test_revoking_user_needs_the_store_before_and_after_the_change() -> None:
    class FlakyStore(MemoryRevocationStore):
        def __init__(self, fail_on: int) -> None:
            super().__init__()
            self.calls, self.fail_on = 0, fail_on

        async def revoke_subject(self, subject: str, before: float, until: float) -> None:
            self.calls += 1
            if self.calls == self.fail_on:
                raise RevocationStoreError("down")
            await super().revoke_subject(subject, before, until)

    config = AuthConfig(signing_key=SigningKey("s" * 32), claims_only=True)
    before = Auth(config, revocation=FlakyStore(fail_on=1))
    ran = False
    with pytest.raises(ServiceUnavailable):
        async with before.revoking_user("1"):
            ran = True
    assert not ran  # the store was down: the change never started

    logs = LogCapture()
    after = Auth(config, revocation=FlakyStore(fail_on=2))
    with pytest.raises(ServiceUnavailable):
        async with after.revoking_user("1"):
            ran = True
    assert ran
    assert logs.named("user_revocation_after_change_failed")


async def test_optional_user_is_none_without_credentials_but_401_with_bad_ones() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    pair = auth.tokens.issue_pair("1", ["user"])
    async with app_client(app) as client:
        anonymous = await client.get("/maybe")
        known = await client.get("/maybe", headers=bearer(pair.access_token))
        bad = await client.get("/maybe", headers=bearer("not.a.token"))
    assert anonymous.json() == {"id": None}
    assert known.json() == {"id": "1"}
    assert bad.status_code == 401


async def test_the_user_id_joins_the_request_log_context(logs: LogCapture) -> None:
    import structlog

    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 7)
    pair = auth.tokens.issue_pair("7", ["user"])
    async with app_client(app) as client:
        await client.get("/me", headers=bearer(pair.access_token))
    [access] = logs.named("http_request")
    assert access["user_id"] == "7"
    structlog.get_logger("test").info("afterwards")
    assert "user_id" not in logs.named("afterwards")[0]


def test_an_auth_without_user_loader_must_say_it_trusts_claims() -> None:
    from fastapi_kit.auth import Auth, AuthConfig, SigningKey

    with pytest.raises(ValueError, match="user_loader"):
        Auth(AuthConfig(signing_key=SigningKey("s" * 32)))


async def test_logins_never_hold_up_other_requests() -> None:
    from fastapi_kit.auth import CryptContextHasher

    directory = Directory()
    app, auth = make_app(directory)
    auth.hasher = CryptContextHasher()  # the real argon2id parameters
    await add_user(directory, auth, 1)
    async with app_client(app) as client:
        logins = [
            asyncio.ensure_future(client.post("/auth/token", data=login_form())) for _ in range(4)
        ]
        await asyncio.sleep(0)  # the logins are under way
        health = await client.get("/healthz")
        pending_when_answered = sum(not login.done() for login in logins)
        assert {r.status_code for r in await asyncio.gather(*logins)} == {200}
    assert health.status_code == 200
    # The health check was answered while hashes were still being computed.
    assert pending_when_answered > 0
