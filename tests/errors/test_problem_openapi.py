"""The shared ProblemDetail schema in OpenAPI and the one-line error responses helper."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from fastapi_kit.errors import (
    PROBLEM_JSON,
    Conflict,
    NotFound,
    install_error_handlers,
    problem_responses,
)

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}


class TodoIn(BaseModel):
    title: str


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/todos/{todo_id}", responses=problem_responses(401, NotFound))
    async def get_todo(todo_id: int) -> dict[str, int]:
        return {"id": todo_id}

    @app.post("/todos", responses=problem_responses(Conflict))
    async def create_todo(todo: TodoIn) -> dict[str, str]:
        return {"title": todo.title}

    return app


def test_problem_schema_is_a_shared_component() -> None:
    schema = make_app().openapi()
    problem = schema["components"]["schemas"]["ProblemDetail"]
    assert set(problem["required"]) == {"title", "status", "code", "request_id"}
    assert problem["properties"]["errors"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/ValidationErrorItem"
    }
    assert "ValidationErrorItem" in schema["components"]["schemas"]


def test_declared_error_responses_use_problem_json() -> None:
    operation = make_app().openapi()["paths"]["/todos/{todo_id}"]["get"]
    assert operation["responses"]["404"] == {
        "description": "Not Found",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }
    assert operation["responses"]["401"]["description"] == "Not Authenticated"
    assert operation["responses"]["401"]["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def test_validation_responses_are_problems_not_fastapis_schema() -> None:
    schema = make_app().openapi()
    responses = schema["paths"]["/todos"]["post"]["responses"]
    assert responses["422"]["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    assert responses["409"]["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "ValidationError" not in schema["components"]["schemas"]


def test_openapi_is_generated_once_and_installation_is_idempotent() -> None:
    app = make_app()
    install_error_handlers(app)  # a second call must not wrap twice
    assert app.openapi() is app.openapi()
