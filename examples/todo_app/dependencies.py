"""Dependencies the routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fastapi_kit.auth import Auth, get_auth

__all__ = ("AuthDep",)

#: The app's ``Auth`` (tokens, logins, revocation), from the lifespan state.
AuthDep = Annotated[Auth, Depends(get_auth)]
