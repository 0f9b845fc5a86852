"""fastapi-kit: batteries-included building blocks for FastAPI services.

Compose them all with [`Kit`][fastapi_kit.Kit], or take one block at a time from
its subpackage (``fastapi_kit.errors``, ``fastapi_kit.logging``,
``fastapi_kit.security``, ``fastapi_kit.health``, ``fastapi_kit.db``). ``Kit`` and
``KitSettings`` are loaded on first use, so importing one block never imports the
others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi_kit.kit import Kit
    from fastapi_kit.settings import KitSettings

__all__ = ("Kit", "KitSettings", "__version__")

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "Kit":
        from fastapi_kit.kit import Kit  # loaded on first use

        return Kit
    if name == "KitSettings":
        from fastapi_kit.settings import KitSettings

        return KitSettings
    msg = f"module 'fastapi_kit' has no attribute {name!r}"
    raise AttributeError(msg)
