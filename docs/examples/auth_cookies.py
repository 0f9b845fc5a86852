"""Cookie sessions for browsers: HttpOnly session cookie plus a CSRF double-submit."""

from typing import Annotated

from auth_app import app, find_user  # the app of the previous example
from fastapi import Depends, Request, Response

from fastapi_kit.auth import (
    Auth,
    CurrentUser,
    PasswordLoginForm,
    get_auth,
    require_same_origin,
)

AuthDep = Annotated[Auth, Depends(get_auth)]


# Another site's page must not log the browser in or out: same origin only.
@app.post("/auth/cookie/login", status_code=204, dependencies=[Depends(require_same_origin)])
async def cookie_login(
    form: Annotated[PasswordLoginForm, Depends()], auth: AuthDep, response: Response
) -> None:
    """Set the session cookie (HttpOnly) and the csrf_token cookie (readable)."""
    pair = await auth.login(form.username, form.password, find_user)
    auth.cookie.set_cookies(response, pair)


@app.post("/auth/cookie/logout", status_code=204, dependencies=[Depends(require_same_origin)])
async def cookie_logout(
    request: Request, user: CurrentUser, auth: AuthDep, response: Response
) -> None:
    """Unsafe methods need X-CSRF-Token equal to the csrf_token cookie."""
    await auth.logout(auth.current_claims(request))
    auth.cookie.clear_cookies(response)
