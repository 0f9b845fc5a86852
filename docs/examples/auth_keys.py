"""Asymmetric keys and rotation by kid."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fastapi_kit.auth import AuthConfig, SigningKey, TokenService


def pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A private key as PEM (in production: read from a secret store)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


old_key, new_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
old_public_pem = old_key.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)

config = AuthConfig(
    signing_key=SigningKey(pem(new_key), "ES256", kid="2026-06"),  # signs new tokens
    verification_keys=(SigningKey(old_public_pem, "ES256", kid="2026-01"),),  # still checked
)
tokens = TokenService(config)
