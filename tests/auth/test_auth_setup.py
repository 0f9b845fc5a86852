"""Setting auth up: Kit.use_auth, keys, a missing Auth, and the testing helpers."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, Request

from auth.app import FAST_HASHER, Directory, add_user, make_app
from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import (
    Auth,
    AuthConfig,
    CurrentUser,
    SigningKey,
    TokenService,
    install_auth,
)
from fastapi_kit.errors import install_error_handlers
from fastapi_kit.testing import app_client, auth_headers
from helpers import LogCapture, client_for, flush_logs


async def test_without_a_secret_key_use_auth_signs_with_a_random_key_and_warns(
    logs: LogCapture,
) -> None:
    kit = Kit(KitSettings())
    first = kit.use_auth(claims_only=True)
    second = Kit(KitSettings()).use_auth(claims_only=True)
    assert first.config.signing_key.secret != second.config.signing_key.secret
    assert len(first.config.signing_key.secret) >= 32
    assert logs.named("secret_key_missing") == []  # said when the app starts
    app = kit.install(FastAPI(), logging=False)
    async with app.router.lifespan_context(app):
        [warning] = logs.named("secret_key_missing")
    assert warning["level"] == "warning"
    assert first.config.signing_key.secret.decode() not in logs.text


async def test_the_random_key_warning_comes_in_the_configured_log_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kit = Kit(KitSettings(log_format="json"))
    kit.use_auth(claims_only=True)
    app = kit.install(FastAPI())
    async with app.router.lifespan_context(app):
        pass
    flush_logs()
    first_line = capsys.readouterr().out.splitlines()[0]
    assert json.loads(first_line)["event"] == "secret_key_missing"


def test_a_verify_only_public_key_checks_tokens_it_cannot_issue() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    issuer = TokenService(AuthConfig(signing_key=SigningKey(private_pem, "ES256", kid="a")))
    checker = TokenService(AuthConfig(signing_key=SigningKey(public_pem, "ES256", kid="a")))
    token = issuer.issue_pair("1").access_token
    assert checker.decode(token, "access").subject == "1"


async def test_current_user_without_an_auth_is_a_500_that_says_why(logs: LogCapture) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"id": str(user.id)}

    async with client_for(app) as client:
        response = await client.get("/me")
    assert response.status_code == 500
    assert "no Auth in the lifespan state" in logs.named("unhandled_exception")[0]["exception"]


async def test_the_claims_of_a_request_need_authentication_first() -> None:
    from fastapi_kit.errors import NotAuthenticated

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/claims")
    async def claims(request: Request) -> None:
        Auth.current_claims(request)

    async with client_for(app) as client:
        response = await client.get("/claims")
    assert response.status_code == 401
    assert NotAuthenticated.code == response.json()["code"]


async def test_auth_headers_make_real_tokens_for_tests() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 3, roles=("admin",))
    async with app_client(app) as client:
        response = await client.get("/admin/stats", headers=auth_headers(auth, "3", ["admin"]))
    assert response.status_code == 200


async def test_auth_works_without_kit() -> None:
    auth = Auth(AuthConfig(signing_key=SigningKey("s" * 32), claims_only=True))
    app = FastAPI(lifespan=auth.lifespan)
    install_error_handlers(app)
    install_auth(app, auth)

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"id": str(user.id)}

    async with app_client(app) as client:
        response = await client.get("/me", headers=auth_headers(auth, "9"))
        anonymous = await client.get("/me")
    assert response.json() == {"id": "9"}
    assert anonymous.status_code == 401
    assert "401" in app.openapi()["paths"]["/me"]["get"]["responses"]


def test_unsupported_token_lifetimes_refuse_to_start() -> None:
    with pytest.raises(ValueError, match="lifetimes"):
        AuthConfig(signing_key=SigningKey("s" * 32), access_ttl=0)


async def test_a_closed_hasher_refuses_work() -> None:
    from fastapi_kit.auth import CryptContextHasher

    hasher = CryptContextHasher(memory_kib=1024, time_cost=1)
    assert await hasher.verify("pool started", await hasher.hash("pool started"))
    hasher.close()
    with pytest.raises(RuntimeError, match="shutdown"):
        await hasher.hash("too late")
    assert FAST_HASHER is not hasher
