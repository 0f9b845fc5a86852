"""Caching with Kit: per-user endpoint caching, invalidation, ETags, function caching."""

# --8<-- [start:app]
from fastapi import FastAPI, Request
from pydantic import BaseModel

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import CurrentUser
from fastapi_kit.cache import cached, conditional, invalidate

kit = Kit(KitSettings())  # REDIS_URL set: entries shared by every instance
auth = kit.use_auth(claims_only=True)
cache = kit.use_cache()  # default lifetime: CACHE_TTL seconds
app = kit.install(FastAPI())

NOTES: dict[str, list[str]] = {}  # stands in for the database


class Note(BaseModel):
    """A note."""

    text: str


@app.get("/notes")
@cached(ttl=60, tags=["notes:{user_id}"])  # per user: one user never sees another's entry
async def list_notes(user: CurrentUser) -> list[str]:
    """Served from the cache until the ttl passes or the user writes."""
    return NOTES.get(str(user.id), [])


@app.post("/notes", status_code=201)
async def add_note(note: Note, request: Request, user: CurrentUser) -> Note:
    """Invalidate what this write changes: now, and again once the transaction committed."""
    NOTES.setdefault(str(user.id), []).append(note.text)
    await invalidate(request, [f"notes:{user.id}"])
    return note


@app.get("/changelog")
@cached(ttl=300, public=True)  # the same for everyone: one shared entry
async def changelog() -> list[str]:
    """Public content needs no login and is shared."""
    return ["0.1.0: first release"]


@app.get("/notes/count")
@conditional  # not cached, but answers If-None-Match with 304
async def count_notes(user: CurrentUser) -> dict[str, int]:
    """Computed each time; the client revalidates with the ETag."""
    return {"count": len(NOTES.get(str(user.id), []))}


# --8<-- [end:app]


# --8<-- [start:functions]
@cache.cached(ttl=600, tags=["rates"])
async def exchange_rate(currency: str) -> float:
    """A slow lookup: cached by its arguments, computed once under concurrent calls."""
    return {"EUR": 1.0, "USD": 1.08}[currency]


# --8<-- [end:functions]
