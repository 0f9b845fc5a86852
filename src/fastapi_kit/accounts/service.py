"""``Accounts``: the account lifecycle over a user store, a mailer, TOTP and ``Auth``."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import structlog
from starlette.requests import Request  # noqa: TC002  # FastAPI reads get_accounts' annotations

from fastapi_kit.accounts.config import AccountsConfig
from fastapi_kit.accounts.mails import AccountMails
from fastapi_kit.accounts.store import AccountUser
from fastapi_kit.auth.revocation import RevocationStoreError
from fastapi_kit.auth.service import invalid_credentials
from fastapi_kit.context import lifespan_service, published
from fastapi_kit.errors import (
    BadToken,
    Conflict,
    EmailNotVerified,
    IncorrectPassword,
    InvalidToken,
    MFARequired,
    ServiceUnavailable,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi_kit.accounts.store import UserStore
    from fastapi_kit.accounts.totp import TOTP, TOTPEnrolment
    from fastapi_kit.auth import Auth, Purpose, TokenPair
    from fastapi_kit.mail import MailSender

__all__ = ("Accounts", "get_accounts")

U = TypeVar("U", bound=AccountUser)


class Accounts:
    """Registration, verification, password reset and change, and TOTP, over ``Auth``.

    The [routers][fastapi_kit.accounts.auth_router] call it; each call gets the
    request's [`UserStore`][fastapi_kit.accounts.UserStore]. ``kit.use_accounts()``
    builds it from the settings.

    Args:
        auth: Tokens, passwords, revocation.
        totp: TOTP secrets and recovery codes.
        mail: Where the mails go (``kit.use_mail()``'s sender).
        config: Lifetimes, links, ``require_verified_email``.
        mails: The mails' templates.
    """

    def __init__(
        self,
        auth: Auth,
        *,
        totp: TOTP,
        mail: MailSender,
        config: AccountsConfig | None = None,
        mails: AccountMails | None = None,
    ) -> None:
        self.auth = auth
        self.totp = totp
        self.mail = mail
        self.config = config if config is not None else AccountsConfig()
        self.mails = mails if mails is not None else AccountMails()
        self._logger = structlog.get_logger("fastapi_kit.accounts")

    # --- registration and verification -----------------------------------------

    async def register(self, store: UserStore[U], email: str, password: str) -> U:
        """Create an account, and mail its verification link (``verify_on_register``).

        Raises:
            Conflict: The address has an account (409).
        """
        user = await store.create(email, await self.auth.hasher.hash(password))
        self._logger.info("account_registered", user_id=str(user.id))
        if self.config.verify_on_register:
            await self._mail("verify", user, user.email)
        return user

    async def request_verification(self, store: UserStore[U], email: str) -> None:
        """Mail a verification link, if ``email`` has an active, unverified account.

        The caller answers the same whatever happened: nobody learns whether the
        address has an account.
        """
        user = await store.get_by_email(email)
        wanted = user is not None and user.is_active and not user.is_verified
        await self._mail("verify", user if wanted else None, email)

    async def verify(self, store: UserStore[U], token: str) -> U:
        """Mark the account of a verification token verified.

        Raises:
            BadToken: The token is invalid, expired, used, or its account is
                verified already (400).
        """

        async def unverified(subject: str) -> str | None:
            user = await store.get(subject)
            if user is None or user.is_verified or not user.is_active:
                return None
            return _verify_fingerprint(user)

        subject = await self.auth.purpose_tokens.consume(token, "verify", fingerprint_of=unverified)
        user = await store.get(subject)
        if user is None:  # deleted in between
            raise BadToken("The link is invalid, expired or already used.")
        return await store.update(user, is_verified=True)

    async def _mail(self, purpose: Purpose, user: AccountUser | None, email: str) -> None:
        """Mail ``user`` a link for ``purpose``; without a user, do the same work, send nothing.

        An address without an account costs what one with an account costs (a
        token signed, a mail rendered, not sent): the answer's timing tells
        nobody which it was.
        """
        config = self.config
        if purpose == "verify":
            ttl, path, render = config.verify_ttl, config.verify_path, self.mails.verify_message
        else:
            ttl, path, render = config.reset_ttl, config.reset_path, self.mails.reset_message
        if user is None:
            subject, to, fingerprint = "0", email, ""
        else:
            subject, to = str(user.id), user.email
            fingerprint = _verify_fingerprint(user) if purpose == "verify" else user.password_hash
        token = self.auth.purpose_tokens.issue(subject, purpose, fingerprint=fingerprint, ttl=ttl)
        message = render(to=to, link=config.link(path, token), token=token, ttl=ttl)
        if user is not None:
            await self.mail.send(message)

    # --- passwords ----------------------------------------------------------------

    async def forgot_password(self, store: UserStore[U], email: str) -> None:
        """Mail a reset link, if ``email`` has an active account (answer the same anyway)."""
        user = await store.get_by_email(email)
        await self._mail("reset", user if user is not None and user.is_active else None, email)

    async def reset_password(self, store: UserStore[U], token: str, password: str) -> None:
        """Set a new password with a reset token; every session of the user ends.

        The token dies with the change (it is bound to the old hash), and so does
        every other reset link of the account.

        Raises:
            BadToken: The token is invalid, expired, used or outdated (400).
            ServiceUnavailable: Sessions cannot be revoked (503; nothing changed).
        """
        checked: list[str] = []

        async def current_hash(subject: str) -> str | None:
            user = await store.get(subject)
            if user is None or not user.is_active:
                return None
            checked.append(user.password_hash)
            return user.password_hash

        new_hash = await self.auth.hasher.hash(password)  # before the token is used up
        subject = await self.auth.purpose_tokens.consume(
            token, "reset", fingerprint_of=current_hash
        )
        user = await store.get(subject)
        if user is None:
            raise BadToken("The link is invalid, expired or already used.")
        async with self.auth.revoking_user(subject):
            # Over the hash the token was checked against: of two links of one
            # password used at once, the second finds it changed.
            if await store.set_password(user, new_hash, replacing=checked[-1]) is None:
                raise BadToken("The link is invalid, expired or already used.")
        self._logger.info("password_reset", user_id=subject)

    async def change_password(
        self, store: UserStore[U], user: U, current_password: str, new_password: str
    ) -> TokenPair:
        """Change the password of a signed-in user; every older token stops working.

        Returns:
            A new token pair, issued after the revocation.

        Raises:
            IncorrectPassword: ``current_password`` is wrong (400).
        """
        if not await self.auth.hasher.verify(current_password, user.password_hash):
            raise IncorrectPassword("The current password is wrong.")
        new_hash = await self.auth.hasher.hash(new_password)
        subject = str(user.id)
        async with self.auth.revoking_user(subject):
            # Over the hash the current password was checked against: a reset that
            # landed meanwhile wins, and this change is refused.
            if await store.set_password(user, new_hash, replacing=user.password_hash) is None:
                raise IncorrectPassword("The current password is wrong.")
        self._logger.info("password_changed", user_id=subject)
        # The new pair carries the account as it is now, read after the clock: a
        # demotion or deactivation that raced this request is not undone by it.
        started = await self.auth.strategy.now()
        current = await store.get(subject)
        if current is None or not current.is_active:
            raise InvalidToken("The account is no longer active.")
        return self.auth.issue_tokens(current, as_of=started)

    # --- logins -------------------------------------------------------------------

    async def login(
        self, store: UserStore[U], username: str, password: str, otp: str | None
    ) -> TokenPair:
        """Check the password, then verification, then the second factor; issue tokens.

        Raises:
            InvalidCredentials: Unknown account, wrong password, inactive account,
                or a wrong ``otp`` (401, all alike).
            MFARequired: Right password, MFA on, no ``otp`` (401).
            EmailNotVerified: Everything right, address unverified, and verified
                addresses required (403).
        """
        started = await self.auth.strategy.now()  # before the read: see Auth.issue_tokens

        async def rehash(user: U, new_hash: str) -> None:
            # Only over the hash just verified: never undo a reset racing this login.
            await store.set_password(user, new_hash, replacing=user.password_hash)

        user = await self.auth.check_password(
            username, password, store.get_by_email, on_rehash=rehash
        )
        # The password is proven: saying the address is unverified leaks nothing,
        # and a recovery code is not spent on a login that fails anyway.
        if self.config.require_verified_email and not user.is_verified:
            raise EmailNotVerified("Verify your email address first.")
        if user.mfa_enabled:
            if not otp:
                raise MFARequired("This account needs its second factor: send `otp`.")
            if not await self._second_factor(store, user, otp):
                raise invalid_credentials()
        return self.auth.issue_tokens(user, as_of=started)

    async def refresh(self, store: UserStore[U], refresh_token: str) -> TokenPair:
        """[`Auth.refresh`][fastapi_kit.auth.Auth.refresh] over the store.

        With ``require_verified_email``, an unverified account gets no new pair:
        sessions from before the setting was turned on end at their next refresh.
        """

        async def load(subject: str) -> U | None:
            user = await store.get(subject)
            if user is not None and self.config.require_verified_email and not user.is_verified:
                return None
            return user

        return await self.auth.refresh(refresh_token, load)

    # --- TOTP ---------------------------------------------------------------------

    async def start_totp(self, store: UserStore[U], user: U) -> TOTPEnrolment:
        """Begin enrolment: a new secret, stored encrypted, inactive until confirmed.

        Raises:
            Conflict: MFA is on already (disable it first; 409).
        """
        if user.mfa_enabled:
            raise Conflict("Two-factor authentication is on already.")
        enrolment = self.totp.new_secret(user_id=str(user.id), account_name=user.email)
        await store.update(user, totp_secret=enrolment.encrypted)
        return enrolment

    async def confirm_totp(self, store: UserStore[U], user: U, code: str) -> tuple[str, ...]:
        """Turn MFA on with a first code; return the recovery codes (shown once).

        Raises:
            BadToken: No enrolment under way, MFA on already, or a wrong code (400).
        """
        secret = user.totp_secret
        if user.mfa_enabled or secret is None or not await self._code_ok(user, secret, code):
            raise BadToken("The code is wrong, or no enrolment is under way.")
        recovery = self.totp.new_recovery_codes()
        await store.update(user, mfa_enabled=True, recovery_codes=list(recovery.hashes))
        self._logger.info("mfa_enabled", user_id=str(user.id))
        return recovery.codes

    async def disable_totp(self, store: UserStore[U], user: U, code: str) -> None:
        """Turn MFA off with a current code or a recovery code.

        Raises:
            BadToken: MFA is off, or the code is wrong (400).
        """
        if not user.mfa_enabled or not await self._second_factor(store, user, code):
            raise BadToken("The code is wrong, or two-factor authentication is off.")
        await store.update(user, mfa_enabled=False, totp_secret=None, recovery_codes=[])
        self._logger.info("mfa_disabled", user_id=str(user.id))

    async def _second_factor(self, store: UserStore[U], user: U, code: str) -> bool:
        """A current TOTP code, or an unused recovery code (then used up)."""
        secret = user.totp_secret
        if secret is not None and await self._code_ok(user, secret, code):
            return True
        try:
            remaining = await self.totp.use_recovery_code(
                user.recovery_codes, code, user_id=str(user.id)
            )
        except RevocationStoreError as exc:
            raise ServiceUnavailable("Two-factor checks are unavailable; try again.") from exc
        if remaining is None:
            return False
        await store.update(user, recovery_codes=list(remaining))
        return True

    async def _code_ok(self, user: AccountUser, secret: str, code: str) -> bool:
        try:
            return await self.totp.verify(secret, code, user_id=str(user.id))
        except RevocationStoreError as exc:
            raise ServiceUnavailable("Two-factor checks are unavailable; try again.") from exc
        except ValueError:
            # Encrypted under another SECRET_KEY (rotated, or random per process):
            # no code can match it; recovery codes are the way back in.
            self._logger.error("totp_secret_undecryptable", user_id=str(user.id))
            return False

    # --- app wiring -----------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, object]]:
        """Publish these ``Accounts`` to requests (lifespan state)."""
        yield published(Accounts, self)


def _verify_fingerprint(user: AccountUser) -> str:
    # Verifying the account, or changing its address, kills the link.
    return f"unverified:{user.email}"


def get_accounts(request: Request) -> Accounts:
    """The app's [`Accounts`][fastapi_kit.accounts.Accounts] (a dependency).

    Raises:
        RuntimeError: No ``Accounts`` was started with the app (a 500, logged).
    """
    accounts = lifespan_service(request.scope, Accounts)
    if accounts is None:
        msg = "no Accounts in the lifespan state: call kit.use_accounts() before kit.install(app)"
        raise RuntimeError(msg)
    return accounts
