"""Single flight: concurrent misses of one key in a process share one computation."""

from __future__ import annotations

import asyncio
from contextlib import suppress

__all__ = ("Flights",)


class Flights:
    """Computations under way in this process, by key.

    The first caller of a key leads (computes); later callers wait for its result
    instead of computing again. Response caching and function memoisation both use it.
    """

    __slots__ = ("_futures",)

    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future[bytes | None]] = {}

    async def wait(self, key: str, at_most: float | None = None) -> bytes | None:
        """The result of the computation of ``key`` under way, if any and in time.

        ``None`` when nothing is under way, the leader stored nothing, or ``at_most``
        seconds passed. Cancelling a waiter never cancels the leader.
        """
        future = self._futures.get(key)
        if future is None:
            return None
        with suppress(TimeoutError):
            return await asyncio.wait_for(asyncio.shield(future), at_most)
        return None

    def lead(self, key: str) -> asyncio.Future[bytes | None]:
        """Start the computation of ``key``: later ``wait`` calls wait for it."""
        future = self._futures[key] = asyncio.get_running_loop().create_future()
        return future

    def land(self, key: str, future: asyncio.Future[bytes | None], result: bytes | None) -> None:
        """End the computation ``future`` of ``key`` with ``result`` (waking its waiters)."""
        if not future.done():
            future.set_result(result)
        if self._futures.get(key) is future:
            del self._futures[key]
