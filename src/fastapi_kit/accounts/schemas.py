"""What the account routes read and write."""

from __future__ import annotations

from datetime import datetime  # pydantic reads the annotations
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fastapi_kit.accounts.emails import email_key, normalize_email
from fastapi_kit.auth.policy import validate_password

__all__ = (
    "Accepted",
    "EmailRequest",
    "PasswordChange",
    "RecoveryCodesOut",
    "RefreshRequest",
    "Registration",
    "ResetPasswordRequest",
    "TOTPCode",
    "TOTPEnrolmentOut",
    "TokenRequest",
    "UserRead",
)

_EMAIL = "alice@example.com"
_PASSWORD = "correct-horse-battery-staple"  # noqa: S105  # an example
_TOKEN = (  # an example
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInR5cGUiOiJyZXNldCJ9."  # noqa: S105
    "q1Vb8cT4yK2mN7pR0sW3xZ6aD9fG5hJ1lE8oU4iY2tQ"
)

#: A password as registration checks it: 8-128 characters, not a common one.
NewPassword = Annotated[
    str,
    AfterValidator(validate_password),
    Field(description="8-128 characters, not among the 3,000 most common passwords."),
]


def _address(email: str) -> str:
    email_key(email)  # a valid address whose key fits (ValueError: a 422)
    return normalize_email(email)


#: An address, normalised (``normalize_email``): an invalid one is a 422.
Email = Annotated[
    str, Field(min_length=3, max_length=320, examples=[_EMAIL]), AfterValidator(_address)
]
#: A token out of a mail.
Token = Annotated[str, Field(min_length=1, max_length=4096)]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class UserRead(BaseModel):
    """An account as the API shows it."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "email": _EMAIL,
                    "roles": ["user"],
                    "is_active": True,
                    "is_verified": True,
                    "created_at": "2025-01-15T09:30:00.123456Z",
                }
            ]
        },
    )

    id: int
    email: str
    roles: list[str]
    is_active: bool
    is_verified: bool
    created_at: datetime


class Registration(BaseModel):
    """A new account: an address no account has (in any case or look-alike form)."""

    model_config = _examples({"email": _EMAIL, "password": _PASSWORD})

    email: Email
    password: NewPassword


class RefreshRequest(BaseModel):
    """A refresh token to exchange for a new pair."""

    model_config = _examples({"refresh_token": _TOKEN})

    refresh_token: Token


class EmailRequest(BaseModel):
    """An address to send a link to."""

    model_config = _examples({"email": _EMAIL})

    email: Email


class Accepted(BaseModel):
    """The same answer whether the address has an account or not."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"detail": "If the address has an account, mail is on its way."}]
        }
    )

    detail: str


class TokenRequest(BaseModel):
    """The token of a verification link."""

    model_config = _examples({"token": _TOKEN})

    token: Token


class ResetPasswordRequest(BaseModel):
    """The token of a reset link, and the new password."""

    model_config = _examples({"token": _TOKEN, "password": "a-new-long-passphrase"})

    token: Token
    password: NewPassword


class PasswordChange(BaseModel):
    """The current password, and the new one."""

    model_config = _examples(
        {"current_password": _PASSWORD, "new_password": "a-new-long-passphrase"}
    )

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: NewPassword


class TOTPEnrolmentOut(BaseModel):
    """A TOTP secret to add to an authenticator app (as text, or as a QR code of the URI)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                    "otpauth_uri": "otpauth://totp/Todo%20API:alice%40example.com"
                    "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Todo%20API",
                }
            ]
        }
    )

    secret: str
    otpauth_uri: str


class TOTPCode(BaseModel):
    """A current code of the authenticator app (or, to disable MFA, a recovery code)."""

    model_config = _examples({"code": "492039"})

    code: str = Field(min_length=1, max_length=32)


class RecoveryCodesOut(BaseModel):
    """Single-use codes that stand in for the authenticator app: shown this once."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"recovery_codes": ["7hx3k-q9m2a", "p4tz8-w6c1n"]}]}
    )

    recovery_codes: list[str]
