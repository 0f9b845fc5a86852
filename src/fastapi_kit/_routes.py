"""The full template of the route that handled a request (``/api/v1/todos/{todo_id}``).

FastAPI 0.165 keeps included routers nested: ``scope["route"]`` is the endpoint's own
``APIRoute``, whose ``path_format`` lacks the prefixes of the routers that include it.
``fastapi.routing.iter_route_contexts`` walks the app's routes with their effective
contexts, whose ``path_format`` is the full template; this module maps one to the
other, for the metrics' ``route`` label and the tracing's span names. Starlette's own
routes (``/metrics``) put only their endpoint in the scope: they are found by it.
"""

from __future__ import annotations

from re import Pattern
from typing import TYPE_CHECKING, TypeAlias

from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.routing import BaseRoute
    from starlette.types import Scope

__all__ = ("RouteTemplates",)

# A route included under several prefixes has one template per prefix; the one whose
# pattern matches the request's path is its template.
_Candidates: TypeAlias = tuple[tuple[Pattern[str], str], ...]


class RouteTemplates:
    """Find the full route template of a request from its ASGI scope.

    The map from routes to templates is built once, from ``scope["app"]`` on first
    use, and again only when a route is met that was added after it was built.
    """

    __slots__ = ("_templates",)

    def __init__(self) -> None:
        self._templates: dict[int, str | _Candidates | None] | None = None

    def template(self, scope: Scope) -> str | None:
        """The template of the route that matched ``scope``; ``None`` when none did."""
        route = scope.get("route") or scope.get("endpoint")
        if route is None:
            return None
        templates = self._templates
        if templates is None or id(route) not in templates:
            templates = self._templates = _templates_of(scope.get("app"), templates, route)
        found = templates[id(route)]
        if found is None or isinstance(found, str):
            return found
        path: str = scope["path"]
        root_path: str = scope.get("app_root_path", scope.get("root_path", ""))
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        for pattern, template in found:
            if pattern.match(path):
                return template
        return found[0][1]


def _templates_of(
    app: object, previous: dict[int, str | _Candidates | None] | None, route: object
) -> dict[int, str | _Candidates | None]:
    formats: dict[int, list[str]] = {}
    routes: Sequence[BaseRoute] = getattr(app, "routes", ())
    for context in iter_route_contexts(routes):
        if context.path_format is None:
            continue
        formats.setdefault(id(context.original_route), []).append(context.path_format)
        endpoint = getattr(context.original_route, "endpoint", None)
        if endpoint is not None:  # Starlette's routes are found by their endpoint
            formats.setdefault(id(endpoint), [context.path_format])
    templates: dict[int, str | _Candidates | None] = dict(previous or {})
    for key, found in formats.items():
        unique = list(dict.fromkeys(found))
        templates[key] = (
            unique[0]
            if len(unique) == 1
            else tuple((compile_path(template)[0], template) for template in unique)
        )
    # A route the app does not list (a mounted app's own): its own template.
    templates.setdefault(id(route), getattr(route, "path_format", None))
    return templates
