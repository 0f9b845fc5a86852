"""Database access: an async engine, one session per request, errors as problems.

For example:

```python
from fastapi import FastAPI
from fastapi_kit.db import Database, DbSession

database = Database("sqlite+aiosqlite:///./app.db")
app = FastAPI(lifespan=database.lifespan)


@app.get("/users/{user_id}")
async def get_user(user_id: int, session: DbSession) -> dict[str, str]: ...
```
"""

from __future__ import annotations

from fastapi_kit.db.config import DatabaseConfig
from fastapi_kit.db.database import Database
from fastapi_kit.db.dependencies import DbSession, get_database, get_db_session
from fastapi_kit.db.errors import (
    DatabaseBusy,
    DatabaseUnavailable,
    IntegrityViolation,
    UnstorableValue,
    integrity_violation,
    translate_error,
)
from fastapi_kit.db.models import NAMING_CONVENTION, Base, TimestampMixin, UTCDateTime, utcnow
from fastapi_kit.db.pagination import MAX_OFFSET, Page, PageParams, Pagination, paginate

__all__ = (
    "MAX_OFFSET",
    "NAMING_CONVENTION",
    "Base",
    "Database",
    "DatabaseBusy",
    "DatabaseConfig",
    "DatabaseUnavailable",
    "DbSession",
    "IntegrityViolation",
    "Page",
    "PageParams",
    "Pagination",
    "TimestampMixin",
    "UTCDateTime",
    "UnstorableValue",
    "get_database",
    "get_db_session",
    "integrity_violation",
    "paginate",
    "translate_error",
    "utcnow",
)
