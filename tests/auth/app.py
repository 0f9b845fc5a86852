"""The app the auth tests drive: users in a dict, every route kind the kit supports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import (
    Auth,
    CryptContextHasher,
    CurrentUser,
    LoginUser,
    OptionalUser,
    RolePolicy,
    TokenResponse,
    TokenRevocationStore,
    get_auth,
    require_permission,
    require_role,
    require_same_origin,
)

SECRET = "test-secret-key-0123456789-abcdefghij"
# Cheap argon2id for tests that are not about the hashing parameters themselves.
FAST_HASHER = CryptContextHasher(memory_kib=1024, time_cost=1)
PASSWORD = "correct horse battery staple"


@dataclass
class User:
    id: int
    email: str
    password_hash: str
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"user"}))
    is_active: bool = True


@dataclass
class Directory:
    """The app's user store, and what the auth hooks saw."""

    users: dict[int, User] = field(default_factory=dict)
    rehashed: list[tuple[int, str]] = field(default_factory=list)

    async def load(self, subject: str) -> User | None:
        return self.users.get(int(subject)) if subject.isdigit() else None

    async def lookup(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email.lower()), None)

    async def rehash(self, user: LoginUser, new_hash: str) -> None:
        self.rehashed.append((int(user.id), new_hash))
        self.users[int(user.id)].password_hash = new_hash


AuthDep = Annotated[Auth, Depends(get_auth)]


class RefreshIn(BaseModel):
    refresh_token: str


def settings(**overrides: object) -> KitSettings:
    values: dict[str, object] = {"secret_key": SECRET, "gc_freeze": False, **overrides}
    return KitSettings(**values)  # type: ignore[arg-type]


def make_app(
    directory: Directory,
    kit_settings: KitSettings | None = None,
    *,
    claims_only: bool = False,
    revocation: TokenRevocationStore | None = None,
) -> tuple[FastAPI, Auth]:
    kit = Kit(kit_settings or settings())
    auth = kit.use_auth(
        revocation=revocation,
        user_loader=directory.load,  # in claims-only mode, for refreshes only
        claims_only=claims_only,
        role_policy=RolePolicy(
            hierarchy={"admin": ["editor"], "editor": ["user"]},
            permissions={"editor": ["todos:write"], "user": ["todos:read"]},
        ),
        hasher=FAST_HASHER,
    )
    app = kit.install(FastAPI(), logging=False)

    @app.post("/auth/token", response_model=TokenResponse)
    async def token(
        form: Annotated[OAuth2PasswordRequestForm, Depends()], auth: AuthDep
    ) -> Response:
        pair = await auth.login(
            form.username, form.password, directory.lookup, on_rehash=directory.rehash
        )
        return auth.bearer.login_response(pair)

    @app.post("/auth/refresh", response_model=TokenResponse)
    async def refresh(body: RefreshIn, auth: AuthDep) -> Response:
        return auth.bearer.login_response(await auth.refresh(body.refresh_token))

    @app.post("/auth/logout", status_code=204)
    async def logout(request: Request, user: CurrentUser, auth: AuthDep) -> None:
        await auth.logout(auth.current_claims(request))

    @app.post("/auth/cookie/login", status_code=204, dependencies=[Depends(require_same_origin)])
    async def cookie_login(
        form: Annotated[OAuth2PasswordRequestForm, Depends()], auth: AuthDep, response: Response
    ) -> None:
        pair = await auth.login(form.username, form.password, directory.lookup)
        auth.cookie.set_cookies(response, pair)

    @app.post("/auth/cookie/logout", status_code=204, dependencies=[Depends(require_same_origin)])
    async def cookie_logout(
        request: Request, user: CurrentUser, auth: AuthDep, response: Response
    ) -> None:
        await auth.logout(auth.current_claims(request))
        auth.cookie.clear_cookies(response)

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, object]:
        return {"id": str(user.id), "roles": sorted(user.roles)}

    @app.post("/me/notes", status_code=201)
    async def add_note(user: CurrentUser) -> dict[str, str]:
        return {"owner": str(user.id)}

    @app.get("/maybe")
    async def maybe(user: OptionalUser) -> dict[str, str | None]:
        return {"id": None if user is None else str(user.id)}

    @app.get("/admin/stats", dependencies=[Depends(require_role("admin"))])
    async def stats() -> dict[str, int]:
        return {"users": len(directory.users)}

    @app.get("/editor", dependencies=[Depends(require_role("editor"))])
    async def editor() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/reports/{year}")
    @require_role("admin", "auditor")
    async def report(year: int, user: CurrentUser, draft: bool = False) -> dict[str, object]:
        return {"year": year, "by": str(user.id), "draft": draft}

    @app.get("/todos/write-check", dependencies=[Depends(require_permission("todos:write"))])
    async def write_check() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/sync-report")
    @require_role("admin")
    def sync_report() -> dict[str, str]:
        return {"sync": "yes"}

    return app, auth


async def add_user(
    directory: Directory,
    auth: Auth,
    user_id: int,
    *,
    roles: tuple[str, ...] = ("user",),
    active: bool = True,
    password: str = PASSWORD,
) -> User:
    user = User(
        id=user_id,
        email=f"user{user_id}@example.com",
        password_hash=await auth.hasher.hash(password),
        roles=frozenset(roles),
        is_active=active,
    )
    directory.users[user_id] = user
    return user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
