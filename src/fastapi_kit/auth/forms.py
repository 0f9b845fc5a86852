"""``PasswordLoginForm``: OAuth2's password form, with its fields bounded and checked."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm

__all__ = ("PasswordLoginForm",)

#: No control characters (NUL included): no account name holds one, and PostgreSQL
#: refuses NUL in text, so it must be a 422 here rather than a database error.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class PasswordLoginForm(OAuth2PasswordRequestForm):
    """The OAuth2 password grant's form (``username``, ``password``), for login routes.

    FastAPI's ``OAuth2PasswordRequestForm`` with limits: ``username`` is 1 to 320
    printable characters (an email address fits), ``password`` 1 to 1,024
    characters. Anything else is a 422 that never echoes the values, before any
    lookup or hashing::

        LoginForm = Annotated[PasswordLoginForm, Depends()]


        @app.post("/auth/token")
        async def token(form: LoginForm, auth: AuthDep) -> Response: ...
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[
            str,
            Form(
                min_length=1,
                max_length=320,
                pattern=_PRINTABLE,
                description="The account name (the email, for most apps).",
            ),
        ],
        password: Annotated[
            str,
            Form(min_length=1, max_length=1024, json_schema_extra={"format": "password"}),
        ],
        scope: Annotated[str, Form(max_length=1024)] = "",
        client_id: Annotated[str | None, Form(max_length=256)] = None,
        client_secret: Annotated[
            str | None, Form(max_length=1024, json_schema_extra={"format": "password"})
        ] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
