"""Verification and reset tokens: one purpose, short-lived, single use, bound to the account."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import jwt
import pytest
from pydantic import BaseModel

from auth.app import SECRET, Directory, add_user, bearer, make_app
from fastapi_kit.auth import (
    AuthConfig,
    MemoryRevocationStore,
    PurposeTokens,
    SigningKey,
    TokenRevocationStore,
    TokenService,
)
from fastapi_kit.errors import BadToken, ServiceUnavailable
from fastapi_kit.testing import app_client

if TYPE_CHECKING:
    from helpers import LogCapture

CONFIG = AuthConfig(signing_key=SigningKey(SECRET))
HASHES = {"1": "$argon2id$old-hash", "2": "$argon2id$other-hash"}


@pytest.fixture
def purpose(store: TokenRevocationStore) -> PurposeTokens:
    return PurposeTokens(TokenService(CONFIG), store)


async def password_hash(subject: str) -> str | None:
    return HASHES.get(subject)


async def refused(purpose: PurposeTokens, token: str, kind: str = "reset") -> BadToken:
    with pytest.raises(BadToken) as caught:
        await purpose.consume(token, kind, fingerprint_of=password_hash)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert caught.value.code == "bad_token"
    return caught.value


def reset_token(purpose: PurposeTokens, subject: str = "1", **kwargs: float) -> str:
    return purpose.issue(subject, "reset", fingerprint=HASHES[subject], ttl=3600, **kwargs)


async def test_a_token_is_consumed_for_its_subject(purpose: PurposeTokens) -> None:
    token = reset_token(purpose)
    assert await purpose.consume(token, "reset", fingerprint_of=password_hash) == "1"


async def test_a_token_carries_every_required_claim_and_no_fingerprint_in_clear(
    purpose: PurposeTokens,
) -> None:
    payload = jwt.decode(reset_token(purpose), options={"verify_signature": False})
    assert set(payload) == {"sub", "exp", "iat", "nbf", "jti", "type", "iss", "aud", "fgp"}
    assert payload["type"] == "reset"
    assert payload["exp"] - payload["iat"] == 3600
    assert HASHES["1"] not in payload["fgp"]


async def test_a_used_token_is_refused(purpose: PurposeTokens) -> None:
    token = reset_token(purpose)
    await purpose.consume(token, "reset", fingerprint_of=password_hash)
    await refused(purpose, token)


async def test_an_expired_token_is_refused(purpose: PurposeTokens) -> None:
    # Issued in the past, beyond the lifetime and the leeway: no sleeping.
    token = reset_token(purpose, as_of=time.time() - 3600 - CONFIG.leeway - 5)
    await refused(purpose, token)


async def test_a_tampered_token_is_refused(purpose: PurposeTokens) -> None:
    token = reset_token(purpose)
    header, _payload, signature = token.split(".")
    forged_payload = jwt.decode(token, options={"verify_signature": False}) | {"sub": "2"}
    forged = jwt.encode(forged_payload, "another-secret-key-0123456789-abcdefgh", "HS256")
    await refused(purpose, f"{header}.{forged.split('.')[1]}.{signature}")
    await refused(purpose, forged)
    await refused(purpose, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    await refused(purpose, "not-a-token")
    await refused(purpose, jwt.encode({**forged_payload, "sub": "1"}, "", "none"))  # alg none


async def test_a_token_of_another_purpose_is_refused(purpose: PurposeTokens) -> None:
    reset = reset_token(purpose)
    verify = purpose.issue("1", "verify", fingerprint=HASHES["1"], ttl=3600)
    await refused(purpose, reset, "verify")
    await refused(purpose, verify, "reset")
    # Neither refusal used them up.
    assert await purpose.consume(reset, "reset", fingerprint_of=password_hash) == "1"
    assert await purpose.consume(verify, "verify", fingerprint_of=password_hash) == "1"


async def test_session_tokens_are_refused(purpose: PurposeTokens) -> None:
    pair = TokenService(CONFIG).issue_pair("1", ["user"])
    for token in (pair.access_token, pair.refresh_token):
        await refused(purpose, token, "reset")
        await refused(purpose, token, "verify")


async def test_a_changed_fingerprint_kills_the_token(purpose: PurposeTokens) -> None:
    token = reset_token(purpose)
    HASHES["1"] = "$argon2id$new-hash"
    try:
        await refused(purpose, token)
    finally:
        HASHES["1"] = "$argon2id$old-hash"


async def test_an_unknown_user_is_refused(purpose: PurposeTokens) -> None:
    token = purpose.issue("9", "reset", fingerprint="$argon2id$gone", ttl=3600)
    await refused(purpose, token)


async def test_a_fingerprint_is_bound_to_its_subject(purpose: PurposeTokens) -> None:
    HASHES["2"] = HASHES["1"]  # two accounts in the same state
    try:
        token = reset_token(purpose, "1")
        payload = jwt.decode(token, options={"verify_signature": False})
        other = purpose.issue("2", "reset", fingerprint=HASHES["2"], ttl=3600)
        assert jwt.decode(other, options={"verify_signature": False})["fgp"] != payload["fgp"]
    finally:
        HASHES["2"] = "$argon2id$other-hash"


async def test_of_concurrent_consumes_exactly_one_wins(purpose: PurposeTokens) -> None:
    token = reset_token(purpose)
    results = await asyncio.gather(
        *(purpose.consume(token, "reset", fingerprint_of=password_hash) for _ in range(20)),
        return_exceptions=True,
    )
    assert results.count("1") == 1
    assert all(isinstance(result, BadToken) for result in results if result != "1")


def test_unknown_purposes_and_bad_lifetimes_are_set_up_errors() -> None:
    purpose = PurposeTokens(TokenService(CONFIG), MemoryRevocationStore())
    with pytest.raises(ValueError, match="purpose"):
        purpose.issue("1", "access", fingerprint="x", ttl=60)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl"):
        purpose.issue("1", "reset", fingerprint="x", ttl=0)


async def test_a_store_that_is_down_refuses_with_503() -> None:
    class DownStore(MemoryRevocationStore):
        async def use_once(self, token_id: str, until: float) -> bool:
            from fastapi_kit.auth import RevocationStoreError

            raise RevocationStoreError("down")

    purpose = PurposeTokens(TokenService(CONFIG), DownStore())
    token = reset_token(purpose)
    with pytest.raises(ServiceUnavailable):
        await purpose.consume(token, "reset", fingerprint_of=password_hash)


class TokenIn(BaseModel):
    token: str


async def test_over_http_a_refusal_is_a_400_and_no_token_reaches_a_log(
    logs: LogCapture,
) -> None:
    directory = Directory()
    app, auth = make_app(directory)
    user = await add_user(directory, auth, 1)

    async def current_hash(subject: str) -> str | None:
        found = await directory.load(subject)
        return None if found is None else found.password_hash

    @app.post("/auth/reset")
    async def reset(body: TokenIn) -> dict[str, str]:
        subject = await auth.purpose_tokens.consume(
            body.token, "reset", fingerprint_of=current_hash
        )
        return {"id": subject}

    token = auth.purpose_tokens.issue("1", "reset", fingerprint=user.password_hash, ttl=600)
    async with app_client(app) as client:
        as_access = await client.get("/me", headers=bearer(token))
        used = await client.post("/auth/reset", json={"token": token})
        reused = await client.post("/auth/reset", json={"token": token})
        in_query = await client.post(f"/auth/reset?token={token}", json={"token": token})
    assert as_access.status_code == 401
    assert as_access.json()["code"] == "invalid_token"
    assert used.json() == {"id": "1"}
    assert reused.status_code == in_query.status_code == 400
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["code"] == "bad_token"
    assert token not in logs.text
    assert token.split(".")[2] not in logs.text
    assert [event["reason"] for event in logs.named("purpose_token_refused")] == [
        "reused",
        "reused",
    ]
