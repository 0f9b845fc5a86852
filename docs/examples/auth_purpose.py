"""Email verification and password reset links: one purpose, short-lived, single use."""

from typing import Annotated

from auth_app import USERS, User, app, auth  # the app of the auth example
from pydantic import AfterValidator, BaseModel

from fastapi_kit.auth import hash_password, validate_password

VERIFIED: set[int] = set()  # stands in for a users.verified_at column


# --8<-- [start:purpose]
def verification_state(user: User) -> str:
    """Verifying the account, or changing its address, kills the verification link."""
    return f"{'verified' if user.id in VERIFIED else 'unverified'}:{user.email}"


async def current_state(subject: str) -> str | None:
    """The ``fingerprint_of`` for ``verify``: ``None`` when the user is gone."""
    user = USERS.get(int(subject)) if subject.isdigit() else None
    return None if user is None else verification_state(user)


async def current_password_hash(subject: str) -> str | None:
    """The ``fingerprint_of`` for ``reset``: a new password kills every reset link."""
    user = USERS.get(int(subject)) if subject.isdigit() else None
    return None if user is None else user.password_hash


def verification_link(user: User) -> str:
    """Mail this link (``kit.use_mail()``); valid for a day, once."""
    token = auth.purpose_tokens.issue(
        str(user.id), "verify", fingerprint=verification_state(user), ttl=86_400
    )
    return f"https://app.example.com/verify?token={token}"


def reset_link(user: User) -> str:
    """Mail this link; valid for an hour, once."""
    token = auth.purpose_tokens.issue(
        str(user.id), "reset", fingerprint=user.password_hash, ttl=3600
    )
    return f"https://app.example.com/reset?token={token}"


class VerifyIn(BaseModel):
    """The token of a verification link."""

    token: str


class ResetIn(BaseModel):
    """The token of a reset link, and the new password (checked before the token is used)."""

    token: str
    password: Annotated[str, AfterValidator(validate_password)]


@app.post("/auth/verify", status_code=204)
async def verify(body: VerifyIn) -> None:
    """Any bad, expired, used or outdated token: 400 ``bad_token``."""
    subject = await auth.purpose_tokens.consume(body.token, "verify", fingerprint_of=current_state)
    VERIFIED.add(int(subject))


@app.post("/auth/reset", status_code=204)
async def reset(body: ResetIn) -> None:
    """Set the new password; the user's sessions end with the old one."""
    subject = await auth.purpose_tokens.consume(
        body.token, "reset", fingerprint_of=current_password_hash
    )
    async with auth.revoking_user(subject):
        USERS[int(subject)].password_hash = await hash_password(body.password)


# --8<-- [end:purpose]
