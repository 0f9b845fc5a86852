"""The example app's OpenAPI: summaries, typed models, errors, a working Authorize button.

And a document that reads well in Swagger UI: named bodies, described tags, examples.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr

from fastapi_kit.accounts import schemas as account_schemas
from fastapi_kit.auth import PasswordLoginRequest, TokenResponse
from fastapi_kit.db import Page
from fastapi_kit.errors import PROBLEM_JSON, APIError, ProblemDetail
from fastapi_kit.health import HealthStatus, ReadinessStatus
from todo_app import schemas
from todo_app.main import create_app
from todo_app.settings import Settings

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemDetail"}
PUBLIC = {
    "/api/v1/auth/register",
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/auth/cookie/login",
    "/api/v1/auth/verify/request",
    "/api/v1/auth/verify",
    "/api/v1/auth/forgot-password",
    "/api/v1/auth/reset-password",
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
    assert len(operations) == 25
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
                assert list(response["content"]) == [PROBLEM_JSON], (where, code)
                assert response["content"][PROBLEM_JSON]["schema"] == PROBLEM_SCHEMA, (where, code)
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


#: The model behind each component schema that shows examples.
MODELS: dict[str, type[BaseModel]] = {
    "AdminUserUpdate": schemas.AdminUserUpdate,
    "HealthStatus": HealthStatus,
    "Page_TodoOut_": Page[schemas.TodoOut],
    "PasswordLoginRequest": PasswordLoginRequest,
    "ProblemDetail": ProblemDetail,
    "ReadinessStatus": ReadinessStatus,
    "PasswordChange": account_schemas.PasswordChange,
    "RecoveryCodesOut": account_schemas.RecoveryCodesOut,
    "RefreshRequest": account_schemas.RefreshRequest,
    "Registration": account_schemas.Registration,
    "ResetPasswordRequest": account_schemas.ResetPasswordRequest,
    "TOTPCode": account_schemas.TOTPCode,
    "TOTPEnrolmentOut": account_schemas.TOTPEnrolmentOut,
    "TokenRequest": account_schemas.TokenRequest,
    "EmailRequest": account_schemas.EmailRequest,
    "Accepted": account_schemas.Accepted,
    "TodoCreate": schemas.TodoCreate,
    "TodoOut": schemas.TodoOut,
    "TodoUpdate": schemas.TodoUpdate,
    "TokenResponse": TokenResponse,
    "UserRead": account_schemas.UserRead,
}


def operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    ]


def examples_of(doc: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """The examples a media type shows: its own, or else its schema's."""
    if "example" in media:
        return [media["example"]]
    if "examples" in media:
        return [example["value"] for example in media["examples"].values()]
    schema = media.get("schema", {})
    reference = schema.get("$ref")
    if reference is not None:
        schema = doc["components"]["schemas"][reference.rpartition("/")[2]]
    return list(schema.get("examples", []))


def test_every_body_is_a_named_schema_not_a_generated_one() -> None:
    doc = document()
    names = doc["components"]["schemas"]
    assert not [name for name in names if name.startswith("Body_")]
    for where, operation in operations(doc):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            assert media["schema"]["$ref"].rpartition("/")[2] in names, where
    login = doc["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert login == {
        "application/x-www-form-urlencoded": {
            "schema": {"$ref": "#/components/schemas/PasswordLoginRequest"}
        }
    }


def test_every_tag_has_a_description() -> None:
    doc = document()
    described = {tag["name"]: tag.get("description") for tag in doc["tags"]}
    used = {tag for _, operation in operations(doc) for tag in operation.get("tags", [])}
    assert used == {"auth", "users", "todos", "admin", "health"}
    for tag in used:
        assert described.get(tag), tag
    assert list(described) == ["auth", "users", "todos", "admin", "health"]  # the UI's order


def statuses_of(code: str) -> set[int]:
    """The statuses of the error classes with ``code`` (one code may have two)."""
    classes: list[type[APIError]] = [APIError]
    statuses = set()
    while classes:
        cls = classes.pop()
        if cls.code == code:
            statuses.add(cls.status_code)
        classes.extend(cls.__subclasses__())
    return statuses


def test_every_body_success_and_problem_shows_an_example() -> None:
    doc = document()
    for where, operation in operations(doc):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            assert examples_of(doc, media), (where, media_type)
        for code, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                examples = examples_of(doc, media)
                assert examples, (where, code, media_type)
                if media_type != PROBLEM_JSON:
                    continue
                for example in examples:
                    ProblemDetail.model_validate(example)
                    assert example["status"] == int(code), (where, code)
                    assert int(code) in statuses_of(example["code"]), (where, code)
                    assert example["instance"].startswith("/"), (where, code)
    token = doc["paths"]["/api/v1/auth/token"]["post"]["responses"]["401"]
    assert token["content"][PROBLEM_JSON]["example"]["code"] == "invalid_credentials"
    invalid = doc["paths"]["/api/v1/todos/{todo_id}"]["patch"]["responses"]["422"]
    assert invalid["content"][PROBLEM_JSON]["example"]["instance"] == "/api/v1/todos/42"


def test_schema_examples_are_valid_and_in_field_order() -> None:
    doc = document()
    shown = {name for name, schema in doc["components"]["schemas"].items() if "examples" in schema}
    assert shown == set(MODELS)
    for name, model in MODELS.items():
        properties = list(doc["components"]["schemas"][name]["properties"])
        for example in doc["components"]["schemas"][name]["examples"]:
            model.model_validate(example)
            assert list(example) == [key for key in properties if key in example], name
