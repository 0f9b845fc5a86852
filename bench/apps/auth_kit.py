"""Bench app: the kit's ``CurrentUser`` + ``require_role``, and its login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.security import OAuth2PasswordRequestForm

from fastapi_kit.auth import (
    Auth,
    AuthConfig,
    CurrentUser,
    SigningKey,
    hash_password,
    install_auth,
    require_role,
)
from fastapi_kit.errors import install_error_handlers

auth = Auth(
    AuthConfig(signing_key=SigningKey("bench-secret-0123456789-0123456789-abc"), claims_only=True)
)


@dataclass
class BenchUser:
    """The one user that logs in."""

    id: int
    password_hash: str
    roles: frozenset[str] = frozenset({"admin"})
    is_active: bool = True


users: dict[str, BenchUser] = {}


async def lookup(username: str) -> BenchUser | None:
    """Find the user a login names."""
    return users.get(username)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Create the user (default hash parameters), then run the auth lifespan."""
    users["bench@example.com"] = BenchUser(1, await hash_password("correct horse battery staple"))
    async with auth.lifespan(app) as state:
        yield state


app = FastAPI(lifespan=lifespan)
install_error_handlers(app)
install_auth(app, auth)


@app.get("/todos/{todo_id}", dependencies=[Depends(require_role("admin"))])
async def read_todo(todo_id: int, user: CurrentUser) -> dict[str, Any]:
    """The endpoint: a todo of the user's."""
    return {"id": todo_id, "title": "Benchmark", "owner_id": user.id}


@app.post("/login")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Any:
    """The OAuth2 password flow."""
    return auth.bearer.login_response(await auth.login(form.username, form.password, lookup))


@app.get("/bench-token", response_class=PlainTextResponse)
async def bench_token() -> str:
    """A valid admin token for the load generator."""
    return auth.tokens.issue_pair("1", ["admin"]).access_token
