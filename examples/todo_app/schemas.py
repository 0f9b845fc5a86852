"""What the todo and admin routes read and write, with their validation rules.

The account routes' schemas are the kit's (``fastapi_kit.accounts``).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

__all__ = (
    "AdminUserUpdate",
    "Role",
    "TodoCreate",
    "TodoOut",
    "TodoUpdate",
)

Role = Literal["user", "admin"]


def _printable(value: str, *, allowed: str = "") -> str:
    """Refuse control characters and lone surrogates (no database stores them)."""
    for char in value:
        if char not in allowed and unicodedata.category(char) in {"Cc", "Cs"}:
            msg = "must not contain control characters"
            raise ValueError(msg)
    return value


def _description(value: str) -> str:
    return _printable(value, allowed="\t\n\r")


def _not_null(value: object) -> object:
    if value is None:
        msg = "may be left out, but not null"
        raise ValueError(msg)
    return value


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
    Field(description="1-200 characters once trimmed."),
]
Description = Annotated[str, Field(max_length=2000), AfterValidator(_description)]
#: An optional field of a partial update: left out is fine, ``null`` is not.
Optional = BeforeValidator(_not_null)

# The example of the OpenAPI document (/docs): one todo.
_TODO: dict[str, Any] = {
    "id": 7,
    "title": "Buy oat milk",
    "description": "Two cartons, unsweetened.",
    "done": False,
    "owner_id": 42,
    "created_at": "2025-01-15T09:31:12.654321Z",
    "updated_at": "2025-01-15T09:31:12.654321Z",
}


class TodoCreate(BaseModel):
    """A new todo."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Buy oat milk", "description": "Two cartons, unsweetened."}]
        },
    )

    title: Title
    description: Description = ""
    done: bool = False


class TodoUpdate(BaseModel):
    """A partial update: only the fields sent change; none may be ``null``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"done": True}, {"title": "Buy oat milk and bread"}]},
    )

    title: Annotated[Title | None, Optional] = None
    description: Annotated[Description | None, Optional] = None
    done: Annotated[bool | None, Optional] = None


class TodoOut(BaseModel):
    """A todo as the API shows it."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_TODO]})

    id: int
    title: str
    description: str
    done: bool
    owner_id: int
    created_at: datetime
    updated_at: datetime


class AdminUserUpdate(BaseModel):
    """What an admin may change of an account; either ends its current sessions."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"roles": ["user", "admin"]}, {"is_active": False}]},
    )

    roles: Annotated[list[Role] | None, Optional, Field(max_length=10)] = None
    is_active: Annotated[bool | None, Optional] = None
