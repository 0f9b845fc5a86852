"""Helpers for testing apps built with the kit (they need ``httpx``)."""

from __future__ import annotations

from fastapi_kit.testing.auth import auth_headers, override_current_user, token_user
from fastapi_kit.testing.client import app_client

__all__ = ("app_client", "auth_headers", "override_current_user", "token_user")
