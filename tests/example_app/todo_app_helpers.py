"""Helpers of the example app's tests: accounts, tokens, concurrent requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import httpx

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "correct horse battery"
SECRET = "test-secret-key-0123456789-0123456789"


async def register(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Any:
    """Register ``email``; return the new user."""
    response = await client.post("/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return response.json()


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Any:
    """Log ``email`` in; return the token response."""
    response = await client.post("/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(tokens: Any) -> dict[str, str]:
    """The ``Authorization`` header for a token response."""
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def new_user(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    """Register and log in ``email``; return its ``Authorization`` header."""
    await register(client, email)
    return bearer(await log_in(client, email))


async def admin(client: httpx.AsyncClient) -> dict[str, str]:
    """The ensured admin's ``Authorization`` header."""
    return bearer(await log_in(client, ADMIN_EMAIL, ADMIN_PASSWORD))


async def gather(*calls: Awaitable[httpx.Response]) -> list[httpx.Response]:
    """Send requests concurrently."""
    return list(await asyncio.gather(*calls))
