"""Accounts on SQLAlchemy: the ``UserMixin`` columns and ``SQLAlchemyUserStore``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import JSON, String, false, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from fastapi_kit.accounts.emails import MAX_KEY_LENGTH, email_key, normalize_email
from fastapi_kit.db.models import TimestampMixin, utcnow
from fastapi_kit.errors import Conflict

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ("SQLAlchemyUserStore", "UserMixin")


class UserMixin(TimestampMixin):
    """The columns of an account; your model adds its table name and what else it needs.

    For example:

    ```python
    class User(UserMixin, Base):
        __tablename__ = "users"

        display_name: Mapped[str] = mapped_column(String(100), default="")
    ```

    ``email`` is the address as shown and mailed to (normalised); ``email_key`` its
    [lookup key][fastapi_kit.accounts.email_key], unique, so that addresses that
    differ only in case, Unicode form or look-alike letters are one account.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    email_key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["user"])
    is_active: Mapped[bool] = mapped_column(default=True)
    is_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The TOTP secret, encrypted with a key derived from ``SECRET_KEY``.
    totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    mfa_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Hashes (HMAC-SHA256) of the unused recovery codes.
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


M = TypeVar("M", bound=UserMixin)


class SQLAlchemyUserStore(Generic[M]):
    """A [`UserStore`][fastapi_kit.accounts.UserStore] over one session and one model.

    Make one per request, from the request's session:

    ```python
    def user_store(session: DbSession) -> SQLAlchemyUserStore[User]:
        return SQLAlchemyUserStore(session, User)
    ```

    Every change is committed before the method returns.

    Args:
        session: The request's session.
        model: Your user model (a [`UserMixin`][fastapi_kit.accounts.UserMixin]).
    """

    def __init__(self, session: AsyncSession, model: type[M]) -> None:
        self.session = session
        self.model = model

    async def get(self, user_id: str) -> M | None:
        """The user whose id is ``user_id`` (decimal digits), or ``None``.

        Read from the database, not the session's cache: a change another request
        committed meanwhile (a demotion, a new password) is seen. (Changes of this
        session are flushed first: keep the session's default ``autoflush``.)
        """
        if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 18):
            return None
        return await self.session.get(self.model, int(user_id), populate_existing=True)

    async def get_by_email(self, email: str) -> M | None:
        """The user of ``email`` (matched by key), or ``None`` (an invalid address too)."""
        try:
            key = email_key(email)
        except ValueError:
            return None
        found: M | None = await self.session.scalar(
            select(self.model).where(self.model.email_key == key)
        )
        return found

    async def create(self, email: str, password_hash: str) -> M:
        """Add an active, unverified account with role ``user``.

        Raises:
            Conflict: The address (by key) has an account already, concurrent
                registrations included (409).
            ValueError: ``email`` is not a valid address.
        """
        user = self.model()
        user.email, user.email_key = normalize_email(email), email_key(email)
        user.password_hash, user.roles = password_hash, ["user"]
        self.session.add(user)
        try:
            await self.session.commit()
        except IntegrityError:
            await self.session.rollback()
            raise Conflict("This email is already registered.") from None
        return user

    async def update(self, user: M, **fields: Any) -> M:
        """Set ``fields`` and commit."""
        for name, value in fields.items():
            setattr(user, name, value)
        await self.session.commit()
        return user

    async def set_password(
        self, user: M, password_hash: str, *, replacing: str | None = None
    ) -> M | None:
        """Store a new password hash and commit; with ``replacing``, only over that one."""
        if replacing is None:
            return await self.update(user, password_hash=password_hash)
        model, now = self.model, utcnow()
        changed = await self.session.execute(
            update(model)
            .where(model.id == user.id, model.password_hash == replacing)
            .values(password_hash=password_hash, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.commit()
        if not changed.rowcount:  # type: ignore[attr-defined]
            return None
        set_committed_value(user, "password_hash", password_hash)
        set_committed_value(user, "updated_at", now)
        return user
