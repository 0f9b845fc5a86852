"""What the account routes need of users: the ``AccountUser`` and ``UserStore`` protocols."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from fastapi_kit.auth.users import LoginUser

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ("AccountUser", "UserStore")


class AccountUser(LoginUser, Protocol):
    """A user with an account: what the ready-made routers read and change.

    [`UserMixin`][fastapi_kit.accounts.UserMixin] gives a SQLAlchemy model all of it.
    """

    @property
    def email(self) -> str:
        """The address, as the user gave it (normalised: NFC, lower case)."""
        ...

    @property
    def is_verified(self) -> bool:
        """Whether the user proved they read mail at ``email``."""
        ...

    @property
    def totp_secret(self) -> str | None:
        """The TOTP secret, encrypted; set from enrolment on."""
        ...

    @property
    def mfa_enabled(self) -> bool:
        """Whether logins need a second factor (enrolment confirmed)."""
        ...

    @property
    def recovery_codes(self) -> Sequence[str]:
        """Hashes of the unused recovery codes."""
        ...


U = TypeVar("U", bound=AccountUser)


class UserStore(Protocol[U]):
    """Where accounts live; one per request (it may hold the request's session).

    [`SQLAlchemyUserStore`][fastapi_kit.accounts.SQLAlchemyUserStore] is the kit's;
    write your own over any database. Changes are durable when the method returns
    (the routers revoke sessions around them, which must not run ahead of a commit).
    """

    async def get(self, user_id: str) -> U | None:
        """The user of a token's subject, or ``None`` (an id of the wrong form too)."""
        ...

    async def get_by_email(self, email: str) -> U | None:
        """The user of ``email``, matched by its [key][fastapi_kit.accounts.email_key]."""
        ...

    async def create(self, email: str, password_hash: str) -> U:
        """Add an account (active, unverified, role ``user``).

        Raises:
            Conflict: ``email``'s key belongs to an account already (409).
        """
        ...

    async def update(self, user: U, **fields: Any) -> U:
        """Set ``fields`` on ``user`` and save them."""
        ...

    async def set_password(
        self, user: U, password_hash: str, *, replacing: str | None = None
    ) -> U | None:
        """Store a new password hash (a changed password, a reset, a rehash at login).

        Args:
            user: The account.
            password_hash: The new hash.
            replacing: Change it only if the stored hash is still this one (a
                compare-and-set): of two resets of one password, one wins.

        Returns:
            ``user``; ``None`` when the stored hash was not ``replacing``.
        """
        ...
