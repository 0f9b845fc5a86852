"""What of a request's query string a cached response depends on."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin
from urllib.parse import urlencode

from fastapi.routing import APIRoute
from pydantic import AliasChoices, BaseModel
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from fastapi.dependencies.models import Dependant
    from starlette.requests import Request

__all__ = ("DeclaredQuery",)

#: Per query parameter: the names it is read under, in FastAPI's order, and whether
#: every value is read (a list) or the last one. ``None``: the whole query counts.
QueryFields = tuple[tuple[tuple[str, ...], bool], ...] | None


class DeclaredQuery:
    """The query parameters a route reads, with the values its endpoint receives.

    FastAPI reads the last value of a repeated parameter, every value of a list
    parameter, and nothing of parameters the route does not declare (its own and
    its dependencies'): a cache key built from this text is the same for every
    request the endpoint cannot tell apart, and junk parameters make no new
    entries. Where that cannot be known — a query parameter model, an alias path,
    or app code that takes the ``Request`` and may read ``request.query_params``
    itself — every parameter counts, in order within each name.
    """

    def __init__(self) -> None:
        # Routes compare by value and are not hashable: kept by identity.
        self._fields: dict[int, tuple[APIRoute, QueryFields]] = {}

    def of(self, request: Request) -> str:
        """The query ``request``'s route reads, URL-encoded."""
        route = request.scope.get("route")
        query = request.query_params
        fields: QueryFields = None
        if isinstance(route, APIRoute):
            known = self._fields.get(id(route))
            if known is None or known[0] is not route:
                known = self._fields[id(route)] = (route, _query_fields(route))
            fields = known[1]
        if fields is None:
            return urlencode(sorted(query.multi_items(), key=lambda pair: pair[0]))
        pairs: list[tuple[str, str]] = []
        for names, many in fields:
            name = next((name for name in names if name in query), None)
            if name is not None:
                values = query.getlist(name) if many else [query[name]]  # the last one
                pairs.extend((name, value) for value in values)
        return urlencode(pairs)


def _query_fields(route: APIRoute) -> QueryFields:
    """What ``route`` reads of the query (``None``: it may read any of it)."""
    fields: list[tuple[tuple[str, ...], bool]] = []
    if _may_read_the_query(inspect.unwrap(route.endpoint)):
        return None
    dependants = [route.dependant]
    while dependants:
        dependant = dependants.pop()
        if dependant is not route.dependant and _takes_the_connection(dependant):
            return None
        for field in dependant.query_params:
            names = _names(field)
            if names is None:
                return None
            fields.append((names, _is_sequence(field.field_info.annotation)))
        dependants.extend(dependant.dependencies)
    return tuple(sorted(set(fields)))


def _may_read_the_query(endpoint: Any) -> bool:
    """Whether the endpoint itself takes the request (or connection)."""
    try:
        parameters = inspect.signature(endpoint, eval_str=True).parameters.values()
    except (TypeError, ValueError, NameError):  # pragma: no cover - exotic callables
        return True
    return any(
        isinstance(p.annotation, type) and issubclass(p.annotation, HTTPConnection)
        for p in parameters
    )


def _takes_the_connection(dependant: Dependant) -> bool:
    """Whether app code (not the kit's) among the dependencies takes the request."""
    takes = (
        dependant.request_param_name
        or dependant.http_connection_param_name
        or dependant.websocket_param_name
    )
    module = getattr(inspect.unwrap(dependant.call), "__module__", "") if dependant.call else ""
    return bool(takes) and not module.startswith("fastapi_kit.")


def _names(field: Any) -> tuple[str, ...] | None:
    """The names FastAPI reads a query parameter under, or ``None`` if it is a model."""
    annotation = field.field_info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None
    alias = field.field_info.validation_alias
    if isinstance(alias, str):
        return (alias, field.alias, field.name)
    if isinstance(alias, AliasChoices):
        if not all(isinstance(choice, str) for choice in alias.choices):
            return None
        return (*(str(choice) for choice in alias.choices), field.alias, field.name)
    if alias is not None:  # an AliasPath
        return None
    return (field.alias, field.name)


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
