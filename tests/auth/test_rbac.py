"""require_role / require_permission as dependency and decorator; 401 vs 403; OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI

from auth.app import Directory, add_user, bearer, make_app
from fastapi_kit.auth import (
    CurrentUser,
    OptionalUser,
    RolePolicy,
    require_permission,
    require_role,
)
from fastapi_kit.errors import PROBLEM_JSON, install_error_handlers
from fastapi_kit.testing import app_client, override_current_user, token_user
from helpers import client_for


async def call(path: str, roles: tuple[str, ...] | None) -> tuple[int, dict[str, object]]:
    directory = Directory()
    app, auth = make_app(directory)
    headers = {}
    if roles is not None:
        await add_user(directory, auth, 1, roles=roles)
        headers = bearer(auth.tokens.issue_pair("1", roles).access_token)
    async with app_client(app) as client:
        response = await client.get(path, headers=headers)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("path", "roles", "status"),
    [
        ("/admin/stats", None, 401),
        ("/admin/stats", ("user",), 403),
        ("/admin/stats", ("admin",), 200),
        ("/reports/2026", None, 401),
        ("/reports/2026", ("user",), 403),
        ("/reports/2026", ("auditor",), 200),  # any of the listed roles
        ("/reports/2026", ("admin",), 200),
        ("/editor", ("admin",), 200),  # the hierarchy: admin includes editor
        ("/editor", ("editor",), 200),
        ("/editor", ("user",), 403),
        ("/todos/write-check", ("editor",), 200),  # a permission of editor...
        ("/todos/write-check", ("admin",), 200),  # ...that admin inherits
        ("/todos/write-check", ("user",), 403),
        ("/sync-report", ("admin",), 200),  # a decorated sync endpoint
        ("/sync-report", ("user",), 403),
    ],
)
async def test_roles_and_permissions(path: str, roles: tuple[str, ...] | None, status: int) -> None:
    code, body = await call(path, roles)
    assert code == status
    if status == 403:
        assert body["code"] == "forbidden"
        assert str(body["detail"]).startswith("Requires ")
    if status == 401:
        assert body["code"] == "not_authenticated"


async def test_the_decorator_keeps_the_endpoints_own_parameters() -> None:
    code, body = await call("/reports/2026?draft=true", ("admin",))
    assert code == 200
    assert body == {"year": 2026, "by": "1", "draft": True}
    code, body = await call("/reports/twenty", ("admin",))
    assert code == 422


def test_requirements_need_names() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_role()


def test_role_hierarchy_is_transitive_and_cycle_safe() -> None:
    policy = RolePolicy(hierarchy={"a": ["b"], "b": ["c"], "c": ["a"]})
    assert policy.expand({"a"}) == {"a", "b", "c"}
    assert policy.expand(["a"]) is policy.expand(("a",))  # computed once per role set
    assert policy.expand(()) == frozenset()


def test_an_app_without_protected_routes_keeps_its_openapi_untouched() -> None:
    from fastapi_kit.auth import Auth, AuthConfig, SigningKey, install_auth

    app = FastAPI()
    install_auth(app, Auth(AuthConfig(signing_key=SigningKey("s" * 32), claims_only=True)))

    @app.get("/public")
    async def public() -> dict[str, str]:
        return {}

    document = app.openapi()
    assert "securitySchemes" not in document.get("components", {})
    assert set(document["paths"]["/public"]["get"]["responses"]) == {"200"}


async def test_without_an_auth_roles_are_compared_as_they_are() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/admin", dependencies=[Depends(require_role("admin"))])
    async def admin() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"id": str(user.id)}

    @app.get("/maybe")
    async def maybe(user: OptionalUser) -> dict[str, str | None]:
        return {"id": None if user is None else str(user.id)}

    async with client_for(app) as client:
        with override_current_user(app, token_user("5", ["admin"])):
            allowed = await client.get("/admin")
            me_response = await client.get("/me")
        with override_current_user(app, token_user("6", ["user"])):
            denied = await client.get("/admin")
            maybe_user = await client.get("/maybe")
        with override_current_user(app, None):
            anonymous = await client.get("/me")
            maybe_nobody = await client.get("/maybe")
    assert allowed.status_code == 200
    assert me_response.json() == {"id": "5"}
    assert denied.status_code == 403
    assert anonymous.status_code == 401
    assert maybe_user.json() == {"id": "6"}
    assert maybe_nobody.json() == {"id": None}
    assert app.dependency_overrides == {}  # restored


async def test_override_restores_an_earlier_override() -> None:
    from fastapi_kit.auth import get_optional_user

    app = FastAPI()

    async def earlier() -> None:
        return None

    app.dependency_overrides[get_optional_user] = earlier
    with override_current_user(app, token_user()):
        assert app.dependency_overrides[get_optional_user] is not earlier
    assert app.dependency_overrides == {get_optional_user: earlier}


def test_openapi_documents_security_401_403_and_required_roles() -> None:
    app, _ = make_app(Directory())
    document = app.openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == "/auth/token"
    assert schemes["SessionCookie"] == {"type": "apiKey", "in": "cookie", "name": "__Host-session"}

    def problem(response: dict[str, Any]) -> dict[str, Any]:
        """The example body of a problem+json response."""
        assert set(response["content"]) == {PROBLEM_JSON}
        media = response["content"][PROBLEM_JSON]
        assert media["schema"] == {"$ref": "#/components/schemas/ProblemDetail"}
        return media["example"]

    report = document["paths"]["/reports/{year}"]["get"]
    assert report["security"] == [{"OAuth2Password": []}, {"SessionCookie": []}]
    assert problem(report["responses"]["401"])["code"] == "not_authenticated"
    assert problem(report["responses"]["403"])["detail"] == "Requires role `admin` or `auditor`."
    assert "**Requires** role `admin` or `auditor`." in report["description"]
    assert [p["name"] for p in report["parameters"]] == ["year", "draft"]  # nothing internal

    stats = document["paths"]["/admin/stats"]["get"]
    assert "**Requires** role `admin`." in stats["description"]
    write = document["paths"]["/todos/write-check"]["get"]
    assert "**Requires** permission `todos:write`." in write["description"]

    me = document["paths"]["/me"]["get"]
    assert "401" in me["responses"]
    assert "403" not in me["responses"]
    note = document["paths"]["/me/notes"]["post"]  # a write: the CSRF check of cookies
    assert problem(note["responses"]["403"])["code"] == "csrf_failed"
    assert "413" not in note["responses"]  # no body
    login = document["paths"]["/auth/token"]["post"]
    assert "security" not in login
    assert "401" not in login["responses"] or problem(login["responses"]["401"])
    assert problem(login["responses"]["413"])["status"] == 413  # it takes a body


def test_the_token_url_shown_to_swagger_is_configurable() -> None:
    from auth.app import settings

    app, _ = make_app(Directory(), settings(auth_token_url="/api/v1/auth/token"))
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"


def test_requirement_objects_describe_themselves() -> None:
    assert repr(require_role("b", "a")) == "require_role('a', 'b')"
    assert require_permission("x").describe() == "permission `x`"


async def test_routes_of_included_routers_are_protected_and_documented_alike() -> None:
    directory = Directory()
    app, auth = make_app(directory)
    await add_user(directory, auth, 1, roles=("user",))
    await add_user(directory, auth, 2, roles=("admin",))
    await add_user(directory, auth, 3, roles=("editor",))
    router = APIRouter(prefix="/v1", dependencies=[Depends(require_role("admin"))])

    @router.get("/audit")
    async def audit() -> dict[str, str]:
        return {"ok": "yes"}

    @router.get("/stacked")
    @require_role("admin")
    @require_permission("todos:write")
    async def stacked(user: CurrentUser) -> dict[str, str]:
        return {"user": str(user.id)}

    app.include_router(router)
    operation = app.openapi()["paths"]["/v1/audit"]["get"]
    assert operation["security"] == [{"OAuth2Password": []}, {"SessionCookie": []}]
    assert "401" in operation["responses"]
    assert "**Requires** role `admin`." in operation["description"]
    async with app_client(app) as client:
        anonymous = await client.get("/v1/audit")
        user = await client.get(
            "/v1/audit", headers=bearer(auth.tokens.issue_pair("1", ["user"]).access_token)
        )
        admin = await client.get(
            "/v1/stacked", headers=bearer(auth.tokens.issue_pair("2", ["admin"]).access_token)
        )
        editor = await client.get(
            "/v1/stacked", headers=bearer(auth.tokens.issue_pair("3", ["editor"]).access_token)
        )
    assert (anonymous.status_code, user.status_code) == (401, 403)
    assert admin.status_code == 200
    assert editor.status_code == 403  # has the permission; both stacked checks run
