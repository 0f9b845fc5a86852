"""The JWT attack list: every forged token is made here, and every one is refused."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from auth.app import SECRET, Directory, add_user, bearer, make_app, settings
from fastapi_kit.auth import AuthConfig, SigningKey, TokenService
from fastapi_kit.auth.tokens import REQUIRED_CLAIMS
from fastapi_kit.errors import InvalidToken
from fastapi_kit.testing import app_client

CONFIG = AuthConfig(signing_key=SigningKey(SECRET))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = time.time()
    values: dict[str, Any] = {
        "sub": "1",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "a" * 32,
        "type": "access",
        "fam": "f" * 32,
        "iss": CONFIG.issuer,
        "aud": CONFIG.audience,
        "roles": ["user"],
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def sign(payload: dict[str, Any], key: str | bytes = SECRET, **kwargs: Any) -> str:
    return jwt.encode(payload, key, algorithm=kwargs.pop("algorithm", "HS256"), **kwargs)


def refused(token: str, expected: str = "access") -> str:
    with pytest.raises(InvalidToken) as caught:
        TokenService(CONFIG).decode(token, expected)  # type: ignore[arg-type]
    return str(caught.value.detail)


def test_a_genuine_token_passes() -> None:
    decoded = TokenService(CONFIG).decode(sign(claims()), "access")
    assert (decoded.subject, decoded.roles, decoded.type) == ("1", frozenset({"user"}), "access")


def test_alg_none_is_refused() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    refused(f"{header}.{payload}.")


def test_a_token_re_signed_with_another_key_is_refused() -> None:
    refused(sign(claims(), "another-secret-of-enough-length-0123456789"))


def test_a_token_with_a_tampered_payload_is_refused() -> None:
    header, _, signature = sign(claims()).split(".")
    forged = b64(json.dumps(claims(roles=["admin"])).encode())
    refused(f"{header}.{forged}.{signature}")


def test_algorithm_swap_to_hmac_with_the_public_key_is_refused() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    service = TokenService(AuthConfig(signing_key=SigningKey(private_pem, "RS256")))
    # The classic attack: an HS256 token keyed with the (public) RSA key.
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        service.decode(f"{header}.{payload}.{b64(signature)}", "access")


def test_expired_tokens_are_refused_beyond_the_leeway_only() -> None:
    now = time.time()
    assert refused(sign(claims(exp=now - CONFIG.leeway - 5))) == "Token expired."
    TokenService(CONFIG).decode(sign(claims(exp=now - CONFIG.leeway + 5)), "access")


def test_not_yet_valid_tokens_are_refused() -> None:
    refused(sign(claims(nbf=time.time() + CONFIG.leeway + 60)))


@pytest.mark.parametrize("missing", REQUIRED_CLAIMS)
def test_every_required_claim_is_required(missing: str) -> None:
    payload = claims()
    del payload[missing]
    refused(sign(payload))


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"aud": ["fastapi-kit", "another-api"]},  # strict audience: exactly ours
        {"sub": 1},
        {"sub": ""},
        {"roles": "admin"},
        {"roles": [1, 2]},
        {"jti": ""},
        {"iat": "yesterday"},
    ],
)
def test_claims_of_the_wrong_value_or_type_are_refused(overrides: dict[str, Any]) -> None:
    refused(sign(claims(**overrides)))


def test_a_refresh_token_is_not_an_access_token_and_vice_versa() -> None:
    refused(sign(claims(type="refresh")), "access")
    refused(sign(claims(type="access")), "refresh")
    refused(sign(claims(type="id")), "access")


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["x-bank"], "x-bank": 1},  # an extension nobody understands
        {"crit": ["b64"], "b64": True},  # one PyJWT understands; the kit needs none
    ],
)
def test_crit_headers_are_refused(extra: dict[str, Any]) -> None:
    import hashlib
    import hmac

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", **extra}).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    refused(f"{header}.{payload}.{b64(mac)}")


@pytest.mark.parametrize(
    "kid", ["../../../../etc/passwd", "' OR 1=1 --", "unknown", "/dev/null", "\x00"]
)
def test_unknown_kids_are_refused(kid: str) -> None:
    refused(sign(claims(), headers={"kid": kid}))


def test_json_serialised_jws_is_refused() -> None:
    compact = sign(claims())
    header, payload, signature = compact.split(".")
    refused(json.dumps({"payload": payload, "protected": header, "signature": signature}))


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c.d", "....", "ey.ey.ey", "😀.😀.😀"])
def test_garbage_is_refused(garbage: str) -> None:
    refused(garbage)


def test_oversized_tokens_are_refused_before_parsing() -> None:
    refused("e" * (64 * 1024))


def test_short_hmac_keys_and_wide_leeways_refuse_to_start() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SigningKey("too-short")
    with pytest.raises(ValueError, match="leeway"):
        AuthConfig(signing_key=SigningKey(SECRET), leeway=61)
    with pytest.raises(ValueError, match="unsupported"):
        SigningKey(SECRET, algorithm="none")


def pem_private(key: Any) -> bytes:
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize(
    ("algorithm", "private"),
    [
        ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
        ("EdDSA", ed25519.Ed25519PrivateKey.generate),
    ],
)
def test_asymmetric_algorithms_sign_and_verify(algorithm: str, private: Any) -> None:
    service = TokenService(
        AuthConfig(signing_key=SigningKey(pem_private(private()), algorithm, kid="k1"))
    )
    pair = service.issue_pair("42", ["admin"])
    assert jwt.get_unverified_header(pair.access_token) == {
        "alg": algorithm,
        "typ": "JWT",
        "kid": "k1",
    }
    assert service.decode(pair.access_token, "access").roles == frozenset({"admin"})
    assert service.decode(pair.refresh_token, "refresh").family == pair.access.family


def test_key_rotation_by_kid() -> None:
    old = SigningKey("old-secret-0123456789-0123456789-abc", kid="2026-01")
    new = SigningKey("new-secret-0123456789-0123456789-xyz", kid="2026-06")
    before = TokenService(AuthConfig(signing_key=old)).issue_pair("7")
    rotated = TokenService(AuthConfig(signing_key=new, verification_keys=(old,)))
    assert rotated.decode(before.access_token, "access").subject == "7"  # old still accepted
    fresh = rotated.issue_pair("7")
    assert jwt.get_unverified_header(fresh.access_token)["kid"] == "2026-06"
    stranger = SigningKey("stranger-0123456789-0123456789-abcdef", kid="9999-99")
    unknown = TokenService(AuthConfig(signing_key=stranger)).issue_pair("7").access_token
    with pytest.raises(InvalidToken):
        rotated.decode(unknown, "access")  # a kid none of the keys has
    retired = TokenService(AuthConfig(signing_key=new))
    with pytest.raises(InvalidToken):
        retired.decode(before.access_token, "access")  # old key retired: refused
    with pytest.raises(ValueError, match="kid"):
        AuthConfig(signing_key=SigningKey(SECRET), verification_keys=(new,))


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Bearer", "invalid_token"),
        ("Bearer ", "invalid_token"),
        ("Bearer a b", "invalid_token"),
        ("Bearer not.a.jwt", "invalid_token"),
        ("Basic dXNlcjpwYXNz", "not_authenticated"),
        ("Token abc", "not_authenticated"),
        ("Bearer " + "x" * 65536, "invalid_token"),
    ],
)
async def test_malformed_authorization_headers_are_401s(authorization: str, code: str) -> None:
    app, _ = make_app(Directory())
    async with app_client(app) as client:
        response = await client.get("/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_scheme_name_is_case_insensitive_and_queries_are_never_read() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    token = auth.tokens.issue_pair("1", ["user"]).access_token
    async with app_client(app) as client:
        lower = await client.get("/me", headers={"Authorization": f"bearer {token}"})
        query = await client.get("/me", params={"access_token": token, "token": token})
    assert lower.status_code == 200
    assert query.status_code == 401
    assert query.json()["code"] == "not_authenticated"


async def test_a_revoked_token_with_a_non_canonical_signature_stays_revoked() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1)
    token = auth.tokens.issue_pair("1", ["user"]).access_token
    header, payload, signature = token.split(".")
    # HS256 signatures are 32 bytes: 43 base64url characters, the last of which
    # carries 2 unused bits. Flipping them encodes the very same signature.
    last = signature[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(last) ^ 1]
    variant = f"{header}.{payload}.{signature[:-1]}{twin}"
    assert variant != token
    decoded = base64.urlsafe_b64decode(signature + "=")
    assert base64.urlsafe_b64decode(variant.split(".")[2] + "=") == decoded  # same bytes
    async with app_client(app) as client:
        # Only canonical encodings are accepted, so the twin is refused outright...
        before = await client.get("/me", headers=bearer(variant))
        assert (await client.post("/auth/logout", headers=bearer(token))).status_code == 204
        # ...and after the logout, the token itself and its twin alike.
        after = [await client.get("/me", headers=bearer(t)) for t in (token, variant)]
    for response in (before, *after):
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"


def test_settings_configure_the_tokens() -> None:
    from fastapi_kit.auth import AuthConfig as Config

    config = Config.from_settings(settings(jwt_issuer="me", jwt_audience="you", jwt_leeway=5))
    assert (config.issuer, config.audience, config.leeway) == ("me", "you", 5)
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Config.from_settings(settings(secret_key=None))
