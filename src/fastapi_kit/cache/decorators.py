"""``cached``, ``conditional`` and ``invalidate``: caching for endpoints and coroutines."""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request
from pydantic import TypeAdapter

from fastapi_kit.cache.plan import MIDDLEWARE_MISSING, CachePlan
from fastapi_kit.context import RequestContext

if TYPE_CHECKING:
    from fastapi_kit.cache.service import Cache

__all__ = ("cached", "conditional")

F = TypeVar("F", bound=Callable[..., Any])
Tags = Collection[str] | Callable[..., Collection[str]]
_REQUEST = "_fastapi_kit_cache_request"


def cached(
    ttl: float | None = None,
    *,
    tags: Tags = (),
    key: Callable[[Request], str] | None = None,
    public: bool = False,
    cache: Cache | None = None,
) -> Callable[[F], F]:
    """Cache an endpoint's responses, or a coroutine's results.

    On an endpoint (put it below the route decorator), successful ``GET`` responses
    are stored and served again until ``ttl`` passes or a tag is invalidated:

    * the key is the method, the path and the query parameters the route declares
      (with the values the endpoint receives; others are ignored), plus the
      authenticated user (or ``request.state.user_id``) unless ``public``: one user's
      entry is never served to another, and private content for anonymous
      requests is not cached at all;
    * authentication and every other dependency still run on a hit;
    * responses carry ``X-Cache`` (``HIT``, ``MISS``, or ``BYPASS`` when the backend
      failed), ``Cache-Control: private, max-age=...`` (``public`` when public),
      ``Vary: Authorization, Cookie`` and a strong ``ETag`` from the body;
      ``If-None-Match`` gets a ``304``;
    * concurrent misses compute once per process, and once across processes on
      Redis (a short lock; a crashed holder is waited for ``lock_wait`` at most).

    On a plain coroutine, results are cached by its arguments (their ``repr``) and
    returned as its return annotation describes (pydantic validates them back).

    Args:
        ttl: Seconds an entry lives; the cache's ``default_ttl`` when ``None``.
        tags: Tags to invalidate it by. Strings may hold ``{placeholders}`` filled
            from path parameters and ``{user_id}`` (endpoints) or from the arguments
            (coroutines); or give a callable receiving the request (endpoints) or the
            arguments (coroutines).
        key: For endpoints: ``request -> str`` replacing method, path and query in
            the key (the user is still added unless ``public``).
        public: Share one entry between all users (only for content that is the
            same for everyone).
        cache: The cache to use; endpoints find the app's by default, coroutines
            need it (or use ``cache.cached``).
    """

    def decorate(function: F) -> F:
        return _CachedFunction(function, ttl, tags, key, public, cache).wrapper()  # type: ignore[return-value]

    return decorate


class _CachedFunction:
    def __init__(
        self,
        function: Callable[..., Any],
        ttl: float | None,
        tags: Tags,
        key: Callable[[Request], str] | None,
        public: bool,
        cache: Cache | None,
    ) -> None:
        if not inspect.iscoroutinefunction(function):
            msg = "cached() takes async functions"
            raise TypeError(msg)
        self.function = function
        self.ttl, self.tags, self.key, self.public, self.cache = ttl, tags, key, public, cache
        self.signature = inspect.signature(function, eval_str=True)
        self.name = f"{function.__module__}.{function.__qualname__}"

    @functools.cached_property
    def adapter(self) -> TypeAdapter[Any]:
        # Built on first use as a coroutine cache: an endpoint may return a Response.
        returns = self.signature.return_annotation
        return TypeAdapter(Any if returns is inspect.Signature.empty else returns)

    def wrapper(self) -> Callable[..., Any]:
        signature, name, own = _request_parameter(self.signature)

        @functools.wraps(self.function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request: Request | None = kwargs.pop(name, None) if own else kwargs.get(name)
            if request is None:
                return await self.call_function(args, kwargs)
            cache = self.cache or RequestContext.of(request.scope).cache
            if cache is None:
                raise RuntimeError(MIDDLEWARE_MISSING)
            return await cache.serve(
                request,
                lambda: self.function(*args, **kwargs),
                ttl=self.ttl,
                tags=self.request_tags(request),
                key_parts=None if self.key is None else self.key(request),
                public=self.public,
            )

        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        return wrapper

    def request_tags(self, request: Request) -> tuple[str, ...]:
        if callable(self.tags):
            return tuple(self.tags(request))
        context = RequestContext.of(request.scope)
        fields = {**request.path_params, "user_id": context.principal_id(request.scope)}
        return tuple(tag.format_map(fields) for tag in self.tags)

    async def call_function(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.cache is None:
            msg = f"{self.name} is not an endpoint: give it cached(cache=...) or use cache.cached"
            raise RuntimeError(msg)
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        if callable(self.tags):
            tags = tuple(self.tags(**arguments))
        else:
            tags = tuple(tag.format_map(arguments) for tag in self.tags)
        signature = repr(sorted(arguments.items()))
        key = "f:" + hashlib.sha256(f"{self.name}|{signature}".encode()).hexdigest()[:40]

        async def compute() -> bytes:
            return self.adapter.dump_json(await self.function(*args, **kwargs))

        raw = await self.cache.memoize(key, compute, ttl=self.ttl, tags=tags)
        return self.adapter.validate_json(raw)


def conditional(function: F) -> F:
    """Give an endpoint's ``200`` responses a strong ``ETag`` and answer ``If-None-Match`` with 304.

    For endpoints that are not cached (each request computes its response) but
    whose clients revalidate: ``GET /todos/{id}``, say. Needs the cache middleware
    (``kit.use_cache()`` or ``cache.install(app)``).
    """
    signature, name, own = _request_parameter(inspect.signature(function, eval_str=True))

    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        request: Request = kwargs.pop(name) if own else kwargs[name]
        context = RequestContext.of(request.scope)
        if context.cache is None:
            raise RuntimeError(MIDDLEWARE_MISSING)
        context.cache_plan = CachePlan(context.cache, "etag")
        return await function(*args, **kwargs)

    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _request_parameter(signature: inspect.Signature) -> tuple[inspect.Signature, str, bool]:
    """Where the wrapper finds the request.

    Returns the wrapper's signature, the parameter's name, and whether it is the
    kit's own (removed before the function is called). An endpoint that takes the
    ``Request`` itself keeps its parameter: FastAPI fills only one per function.
    """
    parameters = list(signature.parameters.values())
    for parameter in parameters:
        annotation = parameter.annotation
        if isinstance(annotation, type) and issubclass(annotation, Request):
            return signature, parameter.name, False
    extra = inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
    at = next(
        (i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD),
        len(parameters),
    )
    parameters.insert(at, extra)
    return signature.replace(parameters=parameters), _REQUEST, True
