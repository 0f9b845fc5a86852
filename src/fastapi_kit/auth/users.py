"""What the kit knows about users: a small protocol, never the app's model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

__all__ = ("LoginUser", "TokenUser", "UserLoader", "UserLookup", "UserProtocol")


class UserProtocol(Protocol):
    """A user, as the kit sees it: any object with these attributes will do."""

    @property
    def id(self) -> Any:
        """The user's id (``sub`` of their tokens, as text)."""
        ...

    @property
    def roles(self) -> Collection[str]:
        """The user's roles."""
        ...

    @property
    def is_active(self) -> bool:
        """Whether the user may authenticate at all."""
        ...


class LoginUser(UserProtocol, Protocol):
    """A user that can log in with a password."""

    @property
    def password_hash(self) -> str:
        """The stored password hash."""
        ...


#: ``async (subject) -> user | None``: loads the user a token names.
UserLoader: TypeAlias = Callable[[str], Awaitable[UserProtocol | None]]
#: ``async (username) -> user | None``: finds the user a login names.
UserLookup: TypeAlias = Callable[[str], Awaitable[LoginUser | None]]


@dataclass(frozen=True, slots=True)
class TokenUser:
    """The user a token describes, without a database: claims-only mode.

    Attributes:
        id: The token's ``sub``.
        roles: The token's ``roles``.
        is_active: Always ``True``: deactivation is enforced by revoking tokens.
    """

    id: str
    roles: frozenset[str]
    is_active: bool = True
