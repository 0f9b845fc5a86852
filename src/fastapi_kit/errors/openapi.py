"""OpenAPI support: the shared ``ProblemDetail`` schema and one-line error responses."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi_kit._openapi import add_openapi_processor
from fastapi_kit.errors.exceptions import APIError, ValidationFailed
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
#: The ``detail`` of the example problem of each of the kit's codes (the messages the
#: kit sends); an app's own codes show their title. A 500 never shows one.
_EXAMPLE_DETAILS = {
    "bad_request": "There was an error parsing the body",
    "bad_token": "The link is invalid, expired or already used.",
    "not_authenticated": "Authentication required.",
    "invalid_token": "Token expired.",
    "invalid_credentials": "Incorrect username or password.",
    "forbidden": "Requires role `admin`.",
    "csrf_failed": "Send the csrf_token cookie's value in the X-CSRF-Token header.",
    "not_found": "Not Found",
    "method_not_allowed": "Method Not Allowed",
    "conflict": "The request conflicts with the current state of the resource.",
    "payload_too_large": "The request body is over the limit of 1048576 bytes.",
    "validation_error": "The request is invalid.",
    "rate_limited": "Rate limit exceeded: 5 per 1 minute.",
    "service_unavailable": "The database is unavailable.",
}
_EXAMPLE_REQUEST_ID = "3f2c9a7e1b4d4c0f8e6a5b2d1c0e9f8a"
_EXAMPLE_ID = "42"  # what a path parameter is in the examples' ``instance``
_PATH_PARAMETER = re.compile(r"\{[^}]*\}")


def problem_responses(*errors: int | type[APIError]) -> dict[int | str, dict[str, Any]]:
    """Declare error responses of a route under the shared problem+json schema.

    Pass status codes or [`APIError`][fastapi_kit.errors.APIError] subclasses:

    ```python
    @app.get("/todos/{id}", responses=problem_responses(401, NotFound))
    ```

    Each response has an example body with the error's status and code (the first
    of several errors with one status shows; the description names them all); the
    processor that ``install_error_handlers`` adds to the OpenAPI document fills in
    the operation's path as ``instance`` and the app's problem types.

    Args:
        *errors: The statuses (or error classes) the route can answer.

    Returns:
        A mapping for the ``responses`` argument of FastAPI's route decorators.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        if isinstance(error, int):
            status, (code, title) = error, default_code_and_title(error)
        else:
            status, code, title = error.status_code, error.code, error.title
        if status in responses:
            responses[status]["description"] += f"; {title}"
            continue
        responses[status] = {
            "description": title,
            "content": {
                PROBLEM_JSON: {
                    "schema": _PROBLEM_REF,
                    "example": _problem_example(status, code, title),
                }
            },
        }
    return responses


def _problem_example(
    status: int,
    code: str,
    title: str,
    types: ProblemTypes = ABOUT_BLANK,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An example problem body, as ``problem_response`` would send it."""
    problem_type, problem_title = types.type_and_title(status, code, title)
    example: dict[str, Any] = {"type": problem_type, "title": problem_title, "status": status}
    if status != 500:  # a 500 never shows its detail
        example["detail"] = _EXAMPLE_DETAILS.get(code, f"{title}.")
    if instance is not None:
        example["instance"] = instance
    example["code"] = code
    example["request_id"] = _EXAMPLE_REQUEST_ID
    if errors is not None:
        example["errors"] = errors
    return example


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
    """Add the ``ProblemDetail`` schema to ``app``'s OpenAPI and use it for every 422.

    Once every block has declared its error responses, each gets its example body.
    """
    add_openapi_processor(app, "errors", lambda document: add_problem_schema(document, types))
    add_openapi_processor(
        app, "errors_examples", lambda document: add_problem_examples(document, types), late=True
    )


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


def add_problem_examples(document: dict[str, Any], types: ProblemTypes = ABOUT_BLANK) -> None:
    """Give every problem response in ``document`` an example body of its operation.

    The example keeps the ``code`` (and ``detail``) that ``problem_responses`` put in
    it; its ``type`` and ``title`` follow ``types``, its ``instance`` is the path (with
    ``42`` for each path parameter), and a 422's ``errors`` name one of the
    operation's inputs.
    """
    catalogue = problem_catalogue()
    for path, path_item in document.get("paths", {}).items():
        instance = _PATH_PARAMETER.sub(_EXAMPLE_ID, path)
        for operation in path_item.values():
            responses = operation.get("responses", {})
            for status_text, response in list(responses.items()):
                media = response.get("content", {}).get(PROBLEM_JSON)
                if media is None or media.get("schema") != _PROBLEM_REF or "examples" in media:
                    continue  # not a problem, or the app's own named examples
                status = int(status_text)
                declared = media.get("example") or {}
                code = declared.get("code") or default_code_and_title(status)[0]
                title = catalogue.get(code, (status, default_code_and_title(status)[1]))[1]
                errors = None
                if status == ValidationFailed.status_code:
                    errors = [_validation_error_example(document, operation)]
                example = _problem_example(status, code, title, types, instance, errors)
                if "detail" in declared:
                    example["detail"] = declared["detail"]
                # Responses may be shared between operations: each gets its own copy.
                responses[status_text] = {
                    **response,
                    "content": {
                        **response["content"],
                        PROBLEM_JSON: {**media, "example": example},
                    },
                }


def _validation_error_example(
    document: dict[str, Any], operation: dict[str, Any]
) -> dict[str, Any]:
    """One plausible entry of the 422 ``errors`` of ``operation``.

    A path parameter that is not a number, else a required body field left out, else
    a query number that is not one, else a body that is not an object.
    """
    integers = [
        parameter
        for parameter in operation.get("parameters", [])
        if parameter.get("schema", {}).get("type") == "integer"
    ]
    not_an_integer = {
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "type": "int_parsing",
    }
    for parameter in integers:
        if parameter.get("in") == "path":
            return {"loc": ["path", parameter["name"]], **not_an_integer}
    schemas = document.get("components", {}).get("schemas", {})
    for media in operation.get("requestBody", {}).get("content", {}).values():
        name = media.get("schema", {}).get("$ref", "").rpartition("/")[2]
        required = schemas.get(name, {}).get("required")
        if required:
            return {"loc": ["body", required[0]], "msg": "Field required", "type": "missing"}
    if integers:
        return {"loc": [integers[0].get("in", "query"), integers[0]["name"]], **not_an_integer}
    return {
        "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from",
        "type": "model_attributes_type",
    }


def _list_problem_types(schema: dict[str, Any], types: ProblemTypes) -> None:
    catalogue = problem_catalogue()
    properties = schema["properties"]
    properties["code"]["examples"] = list(catalogue)
    lines = [f"- `{code}` ({status}): {title}" for code, (status, title) in catalogue.items()]
    properties["code"]["description"] += " The codes:\n\n" + "\n".join(lines)
    if types.base is not None:
        properties["type"]["examples"] = [types.base + code for code in catalogue]
