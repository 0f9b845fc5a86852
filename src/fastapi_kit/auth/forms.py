"""``PasswordLoginForm``: OAuth2's password form, with its fields bounded and checked."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

__all__ = ("PasswordLoginForm", "PasswordLoginRequest")

#: No control characters (NUL included): no account name holds one, and PostgreSQL
#: refuses NUL in text, so it must be a 422 here rather than a database error.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class PasswordLoginRequest(BaseModel):
    """An OAuth2 password grant, sent as a form: ``username`` and ``password``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "grant_type": "password",
                    "username": "alice@example.com",
                    "password": "correct-horse-battery-staple",
                }
            ]
        }
    )

    # Swagger UI shows a form's fields one by one: with their own examples.
    grant_type: str | None = Field(None, pattern="^password$", examples=["password"])
    username: str = Field(
        min_length=1,
        max_length=320,
        pattern=_PRINTABLE,
        description="The account name (the email, for most apps).",
        examples=["alice@example.com"],
    )
    password: str = Field(
        min_length=1,
        max_length=1024,
        examples=["correct-horse-battery-staple"],
        json_schema_extra={"format": "password"},
    )
    scope: str = Field("", max_length=1024)
    client_id: str | None = Field(None, max_length=256)
    client_secret: str | None = Field(
        None, max_length=1024, json_schema_extra={"format": "password"}
    )
    otp: str | None = Field(
        None,
        max_length=32,
        pattern=_PRINTABLE,
        description="The second factor, for accounts with two-factor authentication: "
        "a current code of the authenticator app, or an unused recovery code.",
        examples=["492039"],
    )


class PasswordLoginForm(OAuth2PasswordRequestForm):
    """The OAuth2 password grant's form (``username``, ``password``), for login routes.

    FastAPI's ``OAuth2PasswordRequestForm`` with limits: ``username`` is 1 to 320
    printable characters (an email address fits), ``password`` 1 to 1,024
    characters. Anything else is a 422 that never echoes the values, before any
    lookup or hashing:

    ```python
    LoginForm = Annotated[PasswordLoginForm, Depends()]


    @app.post("/auth/token")
    async def token(form: LoginForm, auth: AuthDep) -> Response: ...
    ```

    The fields are one form model,
    [`PasswordLoginRequest`][fastapi_kit.auth.PasswordLoginRequest], so OpenAPI
    names the login body after it instead of generating a ``Body_...`` schema per
    route (``Annotated[PasswordLoginRequest, Form()]`` reads the form alone).
    """

    def __init__(self, form: Annotated[PasswordLoginRequest, Form()]) -> None:
        super().__init__(
            grant_type=form.grant_type,
            username=form.username,
            password=form.password,
            scope=form.scope,
            client_id=form.client_id,
            client_secret=form.client_secret,
        )
        #: The second factor (``otp`` field), or ``None``.
        self.otp = form.otp
