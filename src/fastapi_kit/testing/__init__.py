"""Helpers for testing apps built with the kit.

``app_client`` needs ``httpx`` (imported on first use); the rest needs nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_kit.testing.auth import auth_headers, override_current_user, token_user

if TYPE_CHECKING:
    from fastapi_kit.testing.client import app_client

__all__ = ("app_client", "auth_headers", "override_current_user", "token_user")


def __getattr__(name: str) -> object:
    if name == "app_client":
        from fastapi_kit.testing.client import app_client  # needs httpx

        return app_client
    msg = f"module 'fastapi_kit.testing' has no attribute {name!r}"
    raise AttributeError(msg)
