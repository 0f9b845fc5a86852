"""The example app's OpenAPI: summaries, typed models, errors, a working Authorize button."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from fastapi_kit.errors import PROBLEM_JSON
from todo_app.main import create_app
from todo_app.settings import Settings

PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}
PUBLIC = {
    "/api/v1/auth/register",
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/auth/cookie/login",
    "/healthz",
    "/readyz",
}
ADMIN = "/api/v1/admin/"
WITH_IDS = "{todo_id}", "{user_id}"


def document() -> dict[str, Any]:
    return create_app(Settings(secret_key=SecretStr("k" * 40))).openapi()


def test_every_operation_is_summarized_typed_and_lists_its_errors() -> None:
    operations = [
        (path, method, operation)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) == 16
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert len(success) == 1, where
        if success[0] != "204":
            assert "schema" in responses[success[0]]["content"]["application/json"], where
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                assert response["content"] == PROBLEM, (where, code)
        if path.startswith("/api/v1"):
            assert "429" in responses, where
        if path not in PUBLIC:
            assert "401" in responses, where
            assert operation["security"] == [{"OAuth2Password": []}, {"SessionCookie": []}]
        if path.startswith(ADMIN) or (path not in PUBLIC and method != "get"):
            assert "403" in responses, where
        if "requestBody" in operation:
            assert {"413", "422"} <= set(responses), where
        if any(name in path for name in WITH_IDS):
            assert {"404", "422"} <= set(responses), where
    register = document()["paths"]["/api/v1/auth/register"]["post"]
    assert "409" in register["responses"]


def test_swaggers_authorize_button_posts_to_the_token_route() -> None:
    schemes = document()["components"]["securitySchemes"]
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
