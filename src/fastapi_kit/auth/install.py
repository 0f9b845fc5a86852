"""``install_auth``: an ``Auth`` described in a FastAPI app's OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_kit._openapi import add_openapi_processor
from fastapi_kit.auth.openapi import describe_security

if TYPE_CHECKING:
    from fastapi import FastAPI

    from fastapi_kit.auth.service import Auth

__all__ = ("install_auth",)


def install_auth(app: FastAPI, auth: Auth) -> None:
    """Document ``app``'s security in OpenAPI.

    The token URL of Swagger's Authorize button becomes ``config.token_url``;
    operations that authenticate list their 401 response, those that require
    roles or permissions their 403 and what they require. Requests find ``auth``
    through its lifespan (``FastAPI(lifespan=auth.lifespan)``, or ``Kit``).
    """
    config = auth.config
    add_openapi_processor(
        app,
        "auth",
        lambda document: describe_security(app, document, config.token_url, config.session_cookie),
    )
