"""Password hashing off the event loop: argon2id by default, bcrypt still verified."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol, TypeVar

import structlog
from passlib.context import CryptContext
from passlib.exc import PasswordSizeError, UnknownHashError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = (
    "ARGON2_MEMORY_KIB",
    "ARGON2_PARALLELISM",
    "ARGON2_TIME_COST",
    "CryptContextHasher",
    "PasswordHasher",
    "hash_password",
    "verify_and_update",
    "verify_password",
)

#: OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

_T = TypeVar("_T")


class PasswordHasher(Protocol):
    """What the kit needs from a password hasher. All methods run off the event loop."""

    async def hash(self, password: str) -> str:
        """Return a new salted hash of ``password``."""
        ...

    async def verify(self, password: str, password_hash: str) -> bool:
        """Return whether ``password`` matches ``password_hash`` (never raises on bad input)."""
        ...

    async def verify_and_update(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """Verify, and return a new hash too when ``password_hash`` uses outdated settings."""
        ...


class CryptContextHasher:
    """A [`PasswordHasher`][fastapi_kit.auth.PasswordHasher] on passlib's ``CryptContext``.

    New hashes are argon2id with the given parameters (at least OWASP's by default).
    bcrypt hashes still verify and are reported for upgrade, as are argon2 hashes made
    with weaker parameters. The work runs in a small pool of worker threads (argon2
    and bcrypt release the GIL), ``threads`` at a time, so logins never stall other
    requests and a login storm cannot take every thread the app has.

    Args:
        memory_kib: argon2 memory cost, KiB.
        time_cost: argon2 iterations.
        parallelism: argon2 lanes.
        threads: Hashes computed at once; more wait their turn.
    """

    def __init__(
        self,
        *,
        memory_kib: int = ARGON2_MEMORY_KIB,
        time_cost: int = ARGON2_TIME_COST,
        parallelism: int = ARGON2_PARALLELISM,
        threads: int = 4,
    ) -> None:
        self.context = CryptContext(
            schemes=["argon2", "bcrypt"],
            deprecated=["bcrypt"],
            argon2__type="ID",
            argon2__memory_cost=memory_kib,
            argon2__time_cost=time_cost,
            argon2__parallelism=parallelism,
        )
        self.threads = threads
        # Threads start on first use, not here.
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kit-hash")
        self._logger = structlog.get_logger("fastapi_kit.auth")

    async def _off_loop(self, function: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def hash(self, password: str) -> str:
        """Return a new argon2id hash of ``password``."""
        return await self._off_loop(lambda: self.context.hash(password))

    async def verify(self, password: str, password_hash: str) -> bool:
        """Return whether ``password`` matches; ``False`` for malformed or oversized input."""
        matches, _ = await self.verify_and_update(password, password_hash)
        return matches

    async def verify_and_update(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """Verify, and return a new hash when the stored one uses outdated settings."""
        return await self._off_loop(lambda: self._verify_and_update(password, password_hash))

    def _verify_and_update(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        try:
            matches, new_hash = self.context.verify_and_update(password, password_hash)
        except (UnknownHashError, TypeError):  # not a hash passlib knows: a data problem
            self._logger.warning("password_hash_unrecognised")
            return False, None
        except (PasswordSizeError, ValueError):  # too long for the scheme: cannot match
            return False, None
        return bool(matches), new_hash

    def close(self) -> None:
        """Stop the worker threads; the hasher cannot be used afterwards.

        Threads also stop at interpreter exit: call this only to free them earlier.
        """
        self._executor.shutdown(wait=False, cancel_futures=True)


#: The hasher behind the module-level functions; ``Auth`` may use its own.
DEFAULT_HASHER = CryptContextHasher()


async def hash_password(password: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """Hash ``password`` with argon2id, in a worker thread.

    Args:
        password: The plain password.
        hasher: Another hasher than the default.
    """
    return await hasher.hash(password)


async def verify_password(
    password: str, password_hash: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> bool:
    """Check ``password`` against ``password_hash``, in a worker thread.

    Returns ``False`` (never raises) for wrong passwords, oversized ones and
    unrecognised hashes.
    """
    return await hasher.verify(password, password_hash)


async def verify_and_update(
    password: str, password_hash: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> tuple[bool, str | None]:
    """Check ``password``; also return a new hash when ``password_hash`` is outdated.

    A bcrypt hash, or an argon2 hash with parameters below the current ones, comes
    back as ``(True, new_hash)`` on a correct password: store ``new_hash``.
    """
    return await hasher.verify_and_update(password, password_hash)
