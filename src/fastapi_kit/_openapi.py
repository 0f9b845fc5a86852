"""One wrapper around ``app.openapi`` through which blocks post-process the document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.routing import APIRoute, iter_route_contexts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from fastapi import FastAPI
    from fastapi.dependencies.models import Dependant

__all__ = ("add_openapi_processor", "dependency_calls", "documented_routes", "operations_of")


def add_openapi_processor(
    app: FastAPI, key: str, processor: Callable[[dict[str, Any]], None]
) -> None:
    """Run ``processor`` on ``app``'s OpenAPI document when it is generated.

    Processors run once, in the order they were added, on the document FastAPI
    generated; the result is cached as FastAPI caches it. Adding a processor under
    a key already used replaces it.

    Args:
        app: The application.
        key: Identifies the processor (the block that added it).
        processor: Changes the document in place.
    """
    processors: dict[str, Callable[[dict[str, Any]], None]] | None = getattr(
        app.openapi, "_fastapi_kit_processors", None
    )
    if processors is None:
        generate = app.openapi
        processors = {}

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                document = generate()
                for process in processors.values():
                    process(document)
                app.openapi_schema = document
            return app.openapi_schema

        openapi._fastapi_kit_processors = processors  # type: ignore[attr-defined]  # registry
        app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's extension point
    processors[key] = processor
    app.openapi_schema = None


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
