"""The shared ProblemDetail schema in OpenAPI and the one-line error responses helper."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from fastapi_kit.errors import (
    PROBLEM_JSON,
    Conflict,
    NotFound,
    ProblemDetail,
    ProblemTypes,
    install_error_handlers,
    problem_responses,
)

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}


class TodoIn(BaseModel):
    title: str


class TodoQuotaExceeded(Conflict):
    code = "todo_quota_exceeded"  # a code of its own: problem_catalogue() is global
    title = "Todo Quota Exceeded"


def make_app(types: ProblemTypes | None = None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, **({"problem_types": types} if types else {}))

    @app.get("/todos/{todo_id}", responses=problem_responses(401, NotFound))
    async def get_todo(todo_id: int) -> dict[str, int]:
        return {"id": todo_id}

    @app.post("/todos", responses=problem_responses(Conflict))
    async def create_todo(todo: TodoIn) -> dict[str, str]:
        return {"title": todo.title}

    @app.put("/todos/{todo_id}", responses=problem_responses(TodoQuotaExceeded))
    async def replace_todo(todo_id: int, todo: TodoIn) -> dict[str, str]:
        return {"title": todo.title}

    return app


def problem_example(response: dict[str, Any]) -> dict[str, Any]:
    """The example body of a problem response, checked against ``ProblemDetail``."""
    media = response["content"][PROBLEM_JSON]
    assert media["schema"] == PROBLEM_REF
    ProblemDetail.model_validate(media["example"])
    return media["example"]


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
    assert operation["responses"]["404"]["description"] == "Not Found"
    assert problem_example(operation["responses"]["404"])["code"] == "not_found"
    assert operation["responses"]["401"]["description"] == "Not Authenticated"
    assert problem_example(operation["responses"]["401"])["code"] == "not_authenticated"


def test_validation_responses_are_problems_not_fastapis_schema() -> None:
    schema = make_app().openapi()
    responses = schema["paths"]["/todos"]["post"]["responses"]
    assert problem_example(responses["422"])["code"] == "validation_error"
    assert problem_example(responses["409"])["code"] == "conflict"
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "ValidationError" not in schema["components"]["schemas"]


def test_openapi_is_generated_once_and_installation_is_idempotent() -> None:
    app = make_app()
    install_error_handlers(app)  # a second call must not wrap twice
    assert app.openapi() is app.openapi()


def test_every_problem_response_has_an_example_of_its_operation() -> None:
    paths = make_app().openapi()["paths"]
    assert problem_example(paths["/todos/{todo_id}"]["get"]["responses"]["404"]) == {
        "type": "about:blank",
        "title": "Not Found",  # about:blank: the status phrase
        "status": 404,
        "detail": "Not Found",
        "instance": "/todos/42",
        "code": "not_found",
        "request_id": "3f2c9a7e1b4d4c0f8e6a5b2d1c0e9f8a",
    }
    invalid = problem_example(paths["/todos"]["post"]["responses"]["422"])
    assert invalid["status"] == 422
    assert invalid["errors"] == [
        {"loc": ["body", "title"], "msg": "Field required", "type": "missing"}
    ]
    invalid = problem_example(paths["/todos/{todo_id}"]["put"]["responses"]["422"])
    assert invalid["errors"][0]["loc"] == ["path", "todo_id"]
    assert problem_example(paths["/todos"]["post"]["responses"]["400"])["code"] == "bad_request"
    own = problem_example(paths["/todos/{todo_id}"]["put"]["responses"]["409"])
    assert (own["status"], own["title"], own["code"]) == (409, "Conflict", "todo_quota_exceeded")
    assert own["detail"] == "Todo Quota Exceeded."


def test_problem_examples_follow_the_apps_problem_types() -> None:
    types = ProblemTypes("https://api.example.com/problems/")
    paths = make_app(types).openapi()["paths"]
    own = problem_example(paths["/todos/{todo_id}"]["put"]["responses"]["409"])
    assert own["type"] == "https://api.example.com/problems/todo_quota_exceeded"
    assert own["title"] == "Todo Quota Exceeded"  # a named type: the code's own title
    missing = problem_example(paths["/todos/{todo_id}"]["get"]["responses"]["404"])
    assert (missing["type"], missing["title"]) == (
        "https://api.example.com/problems/not_found",
        "Not Found",
    )


def test_responses_shared_between_operations_get_their_own_examples() -> None:
    app = FastAPI()
    install_error_handlers(app)
    shared = problem_responses(NotFound)

    @app.get("/a/{item_id}", responses=shared)
    async def get_a(item_id: int) -> None: ...

    @app.get("/b/{item_id}", responses=shared)
    async def get_b(item_id: int) -> None: ...

    paths = app.openapi()["paths"]
    assert problem_example(paths["/a/{item_id}"]["get"]["responses"]["404"])["instance"] == "/a/42"
    assert problem_example(paths["/b/{item_id}"]["get"]["responses"]["404"])["instance"] == "/b/42"
