"""One wrapper around ``app.openapi`` through which blocks post-process the document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.routing import APIRoute, iter_route_contexts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from fastapi import FastAPI
    from fastapi.dependencies.models import Dependant

__all__ = (
    "add_openapi_processor",
    "dependency_calls",
    "documented_routes",
    "operations_of",
    "order_schema_examples",
)

_SCHEMA_REF = "#/components/schemas/"


def add_openapi_processor(
    app: FastAPI, key: str, processor: Callable[[dict[str, Any]], None], *, late: bool = False
) -> None:
    """Run ``processor`` on ``app``'s OpenAPI document when it is generated.

    Processors run once, in the order they were added, on the document FastAPI
    generated; then its schemas' examples get their keys in property order again
    (``order_schema_examples``), and the result is cached as FastAPI caches it.
    Adding a processor under a key already used replaces it.

    Args:
        app: The application.
        key: Identifies the processor (the block that added it).
        processor: Changes the document in place.
        late: Run after every processor that is not late, whenever it was added: to
            finish what all the blocks declared.
    """
    processors: dict[str, tuple[bool, Callable[[dict[str, Any]], None]]] | None = getattr(
        app.openapi, "_fastapi_kit_processors", None
    )
    if processors is None:
        generate = app.openapi
        processors = {}

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                document = generate()
                # sorted() is stable: the order they were added, the late ones last.
                for _, process in sorted(processors.values(), key=lambda entry: entry[0]):
                    process(document)
                order_schema_examples(document)
                app.openapi_schema = document
            return app.openapi_schema

        openapi._fastapi_kit_processors = processors  # type: ignore[attr-defined]  # registry
        app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's extension point
    processors[key] = (late, processor)
    app.openapi_schema = None


def order_schema_examples(document: dict[str, Any]) -> None:
    """Put the keys of every component schema's ``examples`` in property order.

    Pydantic sorts the keys of the JSON schemas it generates, examples included, so
    ``TodoOut``'s example would start with ``created_at``; Swagger UI shows examples
    as they are. Keys a schema does not list stay last, in their order.
    """
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for schema in schemas.values():
        examples = schema.get("examples")
        if isinstance(examples, list):
            schema["examples"] = [
                _in_property_order(example, schema, schemas) for example in examples
            ]


def _in_property_order(value: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith(_SCHEMA_REF):
        schema = schemas.get(reference.removeprefix(_SCHEMA_REF), {})
    options = [option for option in schema.get("anyOf", ()) if isinstance(option, dict)]
    if options and isinstance(value, (dict, list)):  # ``Item | None``: the non-null one
        wanted = "object" if isinstance(value, dict) else "array"
        for option in options:
            if "$ref" in option or option.get("type") == wanted:
                return _in_property_order(value, option, schemas)
    if isinstance(value, list):
        return [_in_property_order(item, schema.get("items", {}), schemas) for item in value]
    if not isinstance(value, dict):
        return value
    properties: dict[str, Any] = schema.get("properties", {})
    ordered = {
        key: _in_property_order(value[key], properties[key], schemas)
        for key in properties
        if key in value
    }
    return ordered | {key: item for key, item in value.items() if key not in ordered}


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    """Yield the callable of every dependency of ``dependant``, depth first."""
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from dependency_calls(dependency)


def documented_routes(app: FastAPI) -> Iterator[Any]:
    """Yield every API route of ``app``'s OpenAPI document, those of included routers too.

    Each is FastAPI's view of the route as served: its ``dependant`` includes the
    dependencies of the routers it was included through.
    """
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            yield route


def operations_of(document: dict[str, Any], route: Any) -> list[dict[str, Any]]:
    """Return the operations of ``route`` (one per method) in the OpenAPI ``document``."""
    path = document["paths"][route.path_format]
    return [path[method.lower()] for method in route.methods or ()]
