"""Names a package exports but imports on first use (optional extras, heavy modules)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ("lazy_exports",)


def lazy_exports(package: str, modules: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports each name from its module when first used.

    ``modules`` maps each lazy name to the module defining it:
    ``__getattr__ = lazy_exports(__name__, {"RedisCache": "fastapi_kit.cache.redis"})``.
    """

    def lazy_attribute(name: str) -> object:
        module = modules.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        return getattr(importlib.import_module(module), name)

    return lazy_attribute
