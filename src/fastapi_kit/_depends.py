"""Dependencies that are also endpoint decorators (``require_role``, ``limit``).

Nothing here is public API.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends

__all__ = ("DependencyDecorator",)

F = TypeVar("F", bound=Callable[..., Any])

_PARAMETER_PREFIX = "_fastapi_kit_dependency_"


class DependencyDecorator:
    """A dependency that is also a decorator; the dependency itself is ``__wrapped__``.

    FastAPI reads a dependency's signature and async-ness through ``__wrapped__``
    (as for any decorated function), so the instance keeps a plain ``__call__`` that
    decorates when given an endpoint and runs the dependency when FastAPI calls it.
    Subclasses set ``__wrapped__`` in their ``__init__``.

    As a decorator (below the route decorator) it adds itself to the endpoint's
    dependencies, through a keyword-only parameter the wrapper drops again.
    """

    __wrapped__: Callable[..., Any]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self._decorate(args[0])
        return self.__wrapped__(*args, **kwargs)

    def _decorate(self, endpoint: F) -> F:
        signature = inspect.signature(endpoint, eval_str=True)
        parameters = list(signature.parameters.values())
        taken = sum(p.name.startswith(_PARAMETER_PREFIX) for p in parameters)
        name = f"{_PARAMETER_PREFIX}{taken}"  # decorators stack: one parameter each
        extra = inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, Depends(self)]
        )
        at = next(
            (i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD),
            len(parameters),
        )
        parameters.insert(at, extra)

        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                kwargs.pop(name, None)
                return await endpoint(*args, **kwargs)

        else:

            @functools.wraps(endpoint)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                kwargs.pop(name, None)
                return endpoint(*args, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]
