"""What of a request's query string a cached response depends on."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin
from urllib.parse import urlencode

from fastapi.dependencies.utils import get_flat_params
from fastapi.params import ParamTypes
from fastapi.routing import APIRoute

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ("DeclaredQuery",)

#: ``(name, read as a list)`` of each query parameter a route declares, by name.
QueryFields = tuple[tuple[str, bool], ...]


class DeclaredQuery:
    """The query parameters a route declares, with the values its endpoint receives.

    FastAPI reads the last value of a repeated parameter, every value of a list
    parameter, and nothing of parameters the route does not declare (its own and
    its dependencies'); a cache key built from this text is the same for every
    request the endpoint cannot tell apart. Routes that are not FastAPI's keep
    every parameter, in order within each name.
    """

    def __init__(self) -> None:
        # Routes compare by value and are not hashable: kept by identity.
        self._fields: dict[int, tuple[APIRoute, QueryFields]] = {}

    def of(self, request: Request) -> str:
        """The declared query of ``request``, URL-encoded."""
        route = request.scope.get("route")
        query = request.query_params
        if not isinstance(route, APIRoute):
            return urlencode(sorted(query.multi_items(), key=lambda pair: pair[0]))
        known = self._fields.get(id(route))
        if known is None or known[0] is not route:
            known = self._fields[id(route)] = (route, _query_fields(route))
        pairs: list[tuple[str, str]] = []
        for name, many in known[1]:
            if many:
                pairs.extend((name, value) for value in query.getlist(name))
            elif name in query:
                pairs.append((name, query[name]))  # the last value, as FastAPI reads it
        return urlencode(pairs)


def _query_fields(route: APIRoute) -> QueryFields:
    """The query parameters ``route`` declares: ``(name, is a list)``, sorted by name."""
    fields = {
        field.alias: _is_sequence(field.field_info.annotation)
        for field in get_flat_params(route.dependant)
        if getattr(field.field_info, "in_", None) is ParamTypes.query
    }
    return tuple(sorted(fields.items()))


def _is_sequence(annotation: Any) -> bool:
    """Whether FastAPI reads a query parameter of this type as a list (every value)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        return any(_is_sequence(arg) for arg in get_args(annotation))
    kind = origin or annotation
    return (
        isinstance(kind, type)
        and issubclass(kind, (Sequence, AbstractSet))
        and not issubclass(kind, (str, bytes))
    )
