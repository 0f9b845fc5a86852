"""OpenAPI support: the shared ``ProblemDetail`` schema and one-line error responses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi_kit._openapi import add_openapi_processor
from fastapi_kit.errors.exceptions import APIError
from fastapi_kit.errors.problem import (
    ABOUT_BLANK,
    PROBLEM_JSON,
    ProblemDetail,
    ProblemTypes,
    default_code_and_title,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ("install_problem_openapi", "problem_catalogue", "problem_responses")

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


def problem_catalogue() -> dict[str, tuple[int, str]]:
    """Every problem ``code`` of the ``APIError`` classes defined so far: ``(status, title)``.

    The kit's own codes and those of the app's subclasses; where a subclass reuses a
    code (``DatabaseUnavailable`` is a ``service_unavailable``), the parent's title wins.
    """
    catalogue: dict[str, tuple[int, str]] = {}
    classes: list[type[APIError]] = [APIError]
    while classes:  # breadth first: parents before their subclasses
        cls = classes.pop(0)
        catalogue.setdefault(cls.code, (cls.status_code, cls.title))
        classes.extend(cls.__subclasses__())
    return dict(sorted(catalogue.items()))


def install_problem_openapi(app: FastAPI, types: ProblemTypes = ABOUT_BLANK) -> None:
    """Add the ``ProblemDetail`` schema to ``app``'s OpenAPI and use it for every 422."""
    add_openapi_processor(app, "errors", lambda document: add_problem_schema(document, types))


def add_problem_schema(document: dict[str, Any], types: ProblemTypes = ABOUT_BLANK) -> None:
    """Register the problem schema in ``document`` and point every 422 at it.

    The schema lists every problem code (and, with a problem type base, every
    type URI). Operations that take a body also get the 400 of a body that cannot
    be parsed.
    """
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemDetail.model_json_schema(ref_template=_REF_TEMPLATE)
    schemas.update(problem_schema.pop("$defs", {}))
    _list_problem_types(problem_schema, types)
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


def _list_problem_types(schema: dict[str, Any], types: ProblemTypes) -> None:
    catalogue = problem_catalogue()
    properties = schema["properties"]
    properties["code"]["examples"] = list(catalogue)
    lines = [f"- `{code}` ({status}): {title}" for code, (status, title) in catalogue.items()]
    properties["code"]["description"] += " The codes:\n\n" + "\n".join(lines)
    if types.base is not None:
        properties["type"]["examples"] = [types.base + code for code in catalogue]
