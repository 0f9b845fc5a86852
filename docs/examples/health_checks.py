"""Readiness checks: register a probe, and /readyz runs it with a timeout."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fastapi_kit import Kit, KitSettings


class SearchClient:
    """Stands in for a client of some service your app depends on."""

    def __init__(self) -> None:
        self.connected = False

    async def ping(self) -> bool:
        """Healthy when connected; a probe may also raise to say "not ready"."""
        return self.connected


search = SearchClient()
kit = Kit(KitSettings(readiness_timeout=1.0))
kit.readiness.add("search", search.ping)


@asynccontextmanager
async def connect_search(app: FastAPI) -> AsyncIterator[None]:
    """Entered at start-up, exited at shutdown."""
    search.connected = True
    yield
    search.connected = False


kit.add_lifespan(connect_search)
app = kit.install(FastAPI())
