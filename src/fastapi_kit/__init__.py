"""fastapi-kit: batteries-included building blocks for FastAPI services.

Compose them all with [`Kit`][fastapi_kit.Kit], or take one block at a time from
its subpackage (``fastapi_kit.errors``, ``fastapi_kit.logging``,
``fastapi_kit.security``, ``fastapi_kit.health``).
"""

from __future__ import annotations

from fastapi_kit.kit import Kit
from fastapi_kit.settings import KitSettings

__all__ = ("Kit", "KitSettings", "__version__")

__version__ = "0.1.0"
