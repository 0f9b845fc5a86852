"""Strong ETags from response bodies, and ``If-None-Match`` matching."""

from __future__ import annotations

import hashlib

__all__ = ("etag_for", "etag_matches")


def etag_for(body: bytes) -> str:
    """A strong ETag for ``body``: the same bytes give the same tag in every process."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header matches ``etag`` (weak comparison, RFC 9110)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == wanted for candidate in if_none_match.split(",")
    )
