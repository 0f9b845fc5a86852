"""Database errors turned into problem responses, with nothing from the driver shown.

* Connection failures, dead connections, pool timeouts and a locked SQLite file
  become 503 ``service_unavailable`` with ``Retry-After``.
* Integrity errors (unique, foreign key, not null, check) become 409 ``conflict``,
  with a message the app may choose per constraint.
* Values the database refuses (SQLSTATE 22000 — asyncpg's own refusal of an
  argument —, 22001, 22003, 22007, 22008, 22021, 22026, 22P02, 22P05, 2200N: too
  long, out of range, unreadable as their type, or holding a character such as NUL)
  become 422 ``validation_error``: the input was well-formed, but not storable. The
  rest of class 22 (division by zero...) is the app's bug: a 500.
* Anything else stays an unhandled exception: a generic 500, logged (without the
  statement's parameters: ``Database`` hides them unless ``echo`` is on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import exc as sa_exc

from fastapi_kit.errors import APIError, Conflict, ServiceUnavailable, ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = (
    "DatabaseBusy",
    "DatabaseUnavailable",
    "IntegrityViolation",
    "UnstorableValue",
    "integrity_violation",
    "translate_error",
)


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached or dropped the connection (503)."""

    title = "Service Unavailable"


class DatabaseBusy(ServiceUnavailable):
    """No connection became free within the pool timeout, or SQLite stayed locked (503)."""

    default_retry_after = 1


class UnstorableValue(ValidationFailed):
    """A value the database refuses: too long, out of range, or with NUL (422)."""


ViolationKind = Literal["unique", "foreign_key", "not_null", "check", "other"]


@dataclass(frozen=True, slots=True)
class IntegrityViolation:
    """What an integrity error was about, as far as the driver says.

    Attributes:
        kind: ``unique``, ``foreign_key``, ``not_null``, ``check`` or ``other``.
        constraint: The constraint's name (PostgreSQL; SQLite names only checks).
        table: The table, when known.
        columns: The columns involved, when known.
    """

    kind: ViolationKind
    constraint: str | None = None
    table: str | None = None
    columns: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """Lookup keys for app messages: the constraint name, then ``table.col1,col2``."""
        keys = []
        if self.constraint:
            keys.append(self.constraint)
        if self.table and self.columns:
            keys.append(f"{self.table}.{','.join(self.columns)}")
        return tuple(keys)


_DEFAULT_DETAILS: dict[ViolationKind, str] = {
    "unique": "A record with the same unique values already exists.",
    "foreign_key": "A referenced record does not exist, or this record is still referenced.",
    "not_null": "A required value is missing.",
    "check": "The values break a rule of the database.",
    "other": "The request conflicts with the stored data.",
}
_PG_KINDS: dict[str, ViolationKind] = {
    "23505": "unique",
    "23503": "foreign_key",
    "23502": "not_null",
    "23514": "check",
}
_SQLITE_MESSAGE = re.compile(
    r"(?P<kind>UNIQUE|FOREIGN KEY|NOT NULL|CHECK) constraint failed(?::\s*(?P<target>.+))?"
)
_SQLITE_KINDS: dict[str, ViolationKind] = {
    "UNIQUE": "unique",
    "FOREIGN KEY": "foreign_key",
    "NOT NULL": "not_null",
    "CHECK": "check",
}
_PG_KEY_COLUMNS = re.compile(r"Key \((?P<columns>[^)]*)\)=")
# SQLite result codes that mean "try again later", not "your SQL is wrong".
_SQLITE_TRANSIENT = ("SQLITE_BUSY", "SQLITE_LOCKED")
_SQLITE_UNAVAILABLE = ("SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_FULL", "SQLITE_NOMEM")
# SQLSTATE class 22 ("data exception") where the value sent is at fault: too long,
# out of range, unreadable as its type, or holding a character the database refuses.
# Others of the class (division by zero, a bad regular expression) are the app's bugs.
_UNSTORABLE_VALUES = frozenset(
    {"22000", "22001", "22003", "22007", "22008", "22021", "22026", "22P02", "22P05", "2200N"}
)


def _sqlstate(error: Exception) -> str:
    """The SQLSTATE of a PostgreSQL error wrapped by SQLAlchemy, or ``""``."""
    original = getattr(error, "orig", None)
    return str(getattr(original, "sqlstate", None) or getattr(original, "pgcode", None) or "")


def integrity_violation(error: sa_exc.IntegrityError) -> IntegrityViolation:
    """Describe an integrity error from PostgreSQL (asyncpg) or SQLite."""
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if sqlstate is not None:
        driver_error = original.__cause__ if original is not None else None
        detail = getattr(driver_error, "detail", None) or ""
        column = getattr(driver_error, "column_name", None)
        key_columns = _PG_KEY_COLUMNS.search(detail)
        if key_columns:
            columns = tuple(c.strip() for c in key_columns["columns"].split(","))
        else:
            columns = (column,) if column else ()
        return IntegrityViolation(
            kind=_PG_KINDS.get(str(sqlstate), "other"),
            constraint=getattr(driver_error, "constraint_name", None),
            table=getattr(driver_error, "table_name", None),
            columns=columns,
        )
    match = _SQLITE_MESSAGE.search(str(original))
    if match is None:
        return IntegrityViolation(kind="other")
    kind = _SQLITE_KINDS[match["kind"]]
    target = (match["target"] or "").strip()
    if kind == "check":
        return IntegrityViolation(kind=kind, constraint=target or None)
    qualified = [part.strip() for part in target.split(",") if "." in part]
    table = qualified[0].split(".", 1)[0] if qualified else None
    columns = tuple(part.split(".", 1)[1] for part in qualified)
    return IntegrityViolation(kind=kind, table=table, columns=columns)


def translate_error(
    error: Exception, conflict_messages: Mapping[str, str] | None = None
) -> APIError | None:
    """Return the API error a database exception should become, or ``None`` to leave it.

    Args:
        error: An exception raised while using the database.
        conflict_messages: Client-facing messages for integrity violations, keyed by
            constraint name (``uq_users_email``) or ``table.column`` (``users.email``).
    """
    if isinstance(error, sa_exc.IntegrityError):
        violation = integrity_violation(error)
        messages = conflict_messages or {}
        detail = next(
            (messages[key] for key in violation.keys if key in messages),
            _DEFAULT_DETAILS[violation.kind],
        )
        return Conflict(detail)
    if _sqlstate(error) in _UNSTORABLE_VALUES:
        return UnstorableValue(
            "A value cannot be stored: it is too long, out of range, or holds a "
            "character the database refuses."
        )
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection became free
        return DatabaseBusy("The database is busy; try again shortly.")
    if isinstance(error, sa_exc.DBAPIError):
        errorname = str(getattr(error.orig, "sqlite_errorname", ""))
        if errorname.startswith(_SQLITE_TRANSIENT):
            return DatabaseBusy("The database is busy; try again shortly.")
        if errorname:  # another SQLite error: a bug to fix, not an outage
            return (
                DatabaseUnavailable("The database is unavailable.")
                if errorname.startswith(_SQLITE_UNAVAILABLE)
                else None
            )
        if error.connection_invalidated or isinstance(
            error, sa_exc.OperationalError | sa_exc.InterfaceError
        ):
            return DatabaseUnavailable("The database is unavailable.")
    return None
