"""Bench app: an authenticated, role-checked endpoint written by hand with PyJWT."""

from __future__ import annotations

import time
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import PlainTextResponse

SECRET = "bench-secret-0123456789-0123456789-abc"
ISSUER = AUDIENCE = "fastapi-kit"
REQUIRED = ["sub", "exp", "iat", "nbf", "jti", "type", "iss", "aud"]

app = FastAPI()


async def admin(authorization: Annotated[str, Header()]) -> dict[str, Any]:
    """Decode the bearer token as carefully as the kit does, and require ``admin``."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise HTTPException(status_code=401)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED},
        )
    except jwt.PyJWTError:
        raise HTTPException(status_code=401) from None
    if claims["type"] != "access":
        raise HTTPException(status_code=401)
    if "admin" not in claims.get("roles", []):
        raise HTTPException(status_code=403)
    return claims


@app.get("/todos/{todo_id}")
async def read_todo(
    todo_id: int, user: Annotated[dict[str, Any], Depends(admin)]
) -> dict[str, Any]:
    """The endpoint: a todo of the user's."""
    return {"id": todo_id, "title": "Benchmark", "owner_id": user["sub"]}


@app.get("/bench-token", response_class=PlainTextResponse)
async def bench_token() -> str:
    """A valid admin token for the load generator."""
    now = time.time()
    payload = {
        "sub": "1",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": "bench",
        "type": "access",
        "fam": "bench",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "roles": ["admin"],
    }
    return jwt.encode(payload, SECRET, algorithm="HS256")
