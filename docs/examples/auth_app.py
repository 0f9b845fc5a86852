"""Authentication and RBAC with Kit: register, log in, refresh, log out, roles."""

# --8<-- [start:app]
# --8<-- [start:imports]
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from pydantic import AfterValidator, BaseModel

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import (
    Auth,
    CurrentUser,
    LoginUser,
    PasswordLoginForm,
    RolePolicy,
    TokenResponse,
    get_auth,
    hash_password,
    require_permission,
    require_role,
    validate_password,
)
from fastapi_kit.errors import Conflict


# --8<-- [end:imports]
@dataclass
class User:
    """The app's own user model: the kit only reads id, roles, is_active, password_hash."""

    id: int
    email: str
    password_hash: str
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"user"}))
    is_active: bool = True


USERS: dict[int, User] = {}  # stands in for the database


async def load_user(subject: str) -> User | None:
    """The user a token names (the token's ``sub``)."""
    return USERS.get(int(subject)) if subject.isdigit() else None


async def find_user(email: str) -> User | None:
    """The user a login names."""
    return next((user for user in USERS.values() if user.email == email.lower()), None)


async def store_new_hash(user: LoginUser, new_hash: str) -> None:
    """Keep the upgraded hash the login computed (bcrypt -> argon2id, say)."""
    USERS[int(user.id)].password_hash = new_hash


# --8<-- [start:setup]
kit = Kit(KitSettings())  # SECRET_KEY, ACCESS_TOKEN_TTL, REDIS_URL... from the environment
auth = kit.use_auth(
    user_loader=load_user,
    role_policy=RolePolicy(
        hierarchy={"admin": ["user"]},  # an admin is also a user
        permissions={"admin": ["reports:read"], "auditor": ["reports:read"]},
    ),
)
app = kit.install(FastAPI())
AuthDep = Annotated[Auth, Depends(get_auth)]
# --8<-- [end:setup]
# --8<-- [end:app]


# --8<-- [start:routes]
class Signup(BaseModel):
    """A registration: the password must pass the policy (8..128, not common)."""

    email: str
    password: Annotated[str, AfterValidator(validate_password)]


class RefreshIn(BaseModel):
    """A refresh token to exchange."""

    refresh_token: str


@app.post("/auth/register", status_code=201)
async def register(body: Signup) -> dict[str, object]:
    """Create an account."""
    if await find_user(body.email):
        raise Conflict("This email is already registered.")
    user = User(len(USERS) + 1, body.email.lower(), await hash_password(body.password))
    USERS[user.id] = user
    return {"id": user.id, "email": user.email}


@app.post("/auth/token", response_model=TokenResponse)
async def login(form: Annotated[PasswordLoginForm, Depends()], auth: AuthDep) -> Response:
    """OAuth2 password flow: the same 401 for an unknown email and a wrong password."""
    pair = await auth.login(form.username, form.password, find_user, on_rehash=store_new_hash)
    return auth.bearer.login_response(pair)  # Cache-Control: no-store


@app.post("/auth/refresh", response_model=TokenResponse)
async def refresh(body: RefreshIn, auth: AuthDep) -> Response:
    """Rotate: the refresh token dies; reusing it ends the whole session.

    The user is loaded again (``user_loader``): current roles, nothing if inactive.
    """
    return auth.bearer.login_response(await auth.refresh(body.refresh_token))


@app.post("/auth/logout", status_code=204)
async def logout(request: Request, user: CurrentUser, auth: AuthDep) -> None:
    """End this session: the access token and its refresh tokens stop working."""
    await auth.logout(auth.current_claims(request))


@app.get("/users/me")
async def me(user: CurrentUser) -> dict[str, object]:
    """Any authenticated user."""
    return {"id": user.id, "roles": sorted(user.roles)}


# --8<-- [start:roles]
@app.get("/admin/stats", dependencies=[Depends(require_role("admin"))])
async def stats() -> dict[str, int]:
    """Admins only: as a dependency."""
    return {"users": len(USERS)}


@app.get("/admin/report")
@require_role("admin", "auditor")  # any of the listed roles: as a decorator
async def report(user: CurrentUser) -> dict[str, object]:
    """Admins and auditors."""
    return {"requested_by": user.id}


@app.get("/reports", dependencies=[Depends(require_permission("reports:read"))])
async def reports() -> list[str]:
    """Whoever holds the permission, through any of their roles."""
    return ["2026-q3"]


# --8<-- [end:roles]
# --8<-- [start:revoking]
@app.post("/admin/users/{user_id}/roles", status_code=204)
@require_role("admin")
async def set_roles(user_id: int, roles: list[str], auth: AuthDep) -> None:
    """Change a user's roles: their existing tokens stop working at once."""
    async with auth.revoking_user(str(user_id)):  # before, and after the change is saved
        USERS[user_id].roles = frozenset(roles)  # with a database: commit in here


# --8<-- [end:revoking]
# --8<-- [end:routes]
