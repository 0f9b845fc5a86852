"""Token revocation stores: the protocol, memory and Redis implementations."""

from __future__ import annotations

from fastapi_kit.auth.revocation.base import RevocationStoreError, TokenRevocationStore
from fastapi_kit.auth.revocation.memory import MemoryRevocationStore

__all__ = ("MemoryRevocationStore", "RevocationStoreError", "TokenRevocationStore")
