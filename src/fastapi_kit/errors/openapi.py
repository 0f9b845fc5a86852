"""OpenAPI support: the shared ``ProblemDetail`` schema and one-line error responses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi_kit._openapi import add_openapi_processor
from fastapi_kit.errors.problem import PROBLEM_JSON, ProblemDetail, default_code_and_title

if TYPE_CHECKING:
    from fastapi import FastAPI

    from fastapi_kit.errors.exceptions import APIError

__all__ = ("install_problem_openapi", "problem_responses")

_REF_TEMPLATE = "#/components/schemas/{model}"
_PROBLEM_REF = {"$ref": _REF_TEMPLATE.format(model=ProblemDetail.__name__)}
# FastAPI documents 422s with these two schemas; the kit's 422 is a ProblemDetail.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def problem_responses(*errors: int | type[APIError]) -> dict[int | str, dict[str, Any]]:
    """Declare error responses of a route under the shared problem+json schema.

    Pass status codes or [`APIError`][fastapi_kit.errors.APIError] subclasses::

        @app.get("/todos/{id}", responses=problem_responses(401, NotFound))

    Args:
        *errors: The statuses (or error classes) the route can answer.

    Returns:
        A mapping for the ``responses`` argument of FastAPI's route decorators.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        if isinstance(error, int):
            status, title = error, default_code_and_title(error)[1]
        else:
            status, title = error.status_code, error.title
        responses[status] = {
            "description": title,
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
        }
    return responses


def install_problem_openapi(app: FastAPI) -> None:
    """Add the ``ProblemDetail`` schema to ``app``'s OpenAPI and use it for every 422."""
    add_openapi_processor(app, "errors", add_problem_schema)


def add_problem_schema(document: dict[str, Any]) -> None:
    """Register the problem schema in ``document`` and point every 422 at it.

    Operations that take a body also get the 400 of a body that cannot be parsed.
    """
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemDetail.model_json_schema(ref_template=_REF_TEMPLATE)
    schemas.update(problem_schema.pop("$defs", {}))
    schemas[ProblemDetail.__name__] = problem_schema
    unparsable = problem_responses(400)[400]
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            response = responses.get("422")
            if response is not None:
                response["description"] = "Validation Error"
                response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
            if "requestBody" in operation:  # a body that cannot be parsed at all
                responses.setdefault("400", unparsable)
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
