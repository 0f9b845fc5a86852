"""Pagination: ``limit``/``offset`` parameters and pages of ``{items, total, limit, offset}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ("MAX_OFFSET", "Page", "PageParams", "Pagination", "paginate")

ItemT = TypeVar("ItemT")
#: The largest accepted offset (a 32-bit signed integer: every database takes it).
MAX_OFFSET = 2**31 - 1


def _page_examples(schema: dict[str, Any], cls: type) -> None:
    """Give ``Page[Item]``'s schema an example page when ``Item``'s schema has examples."""
    args = getattr(cls, "__pydantic_generic_metadata__", {}).get("args", ())
    item = args[0] if len(args) == 1 else None
    if not (isinstance(item, type) and issubclass(item, BaseModel)):
        return
    examples = item.model_json_schema(mode="serialization").get("examples")
    if examples:
        schema["examples"] = [{"items": examples[:1], "total": 1, "limit": 20, "offset": 0}]


class Page(BaseModel, Generic[ItemT]):
    """One page of results: ``{items, total, limit, offset}``.

    Use ``Page[TodoOut]`` as a route's ``response_model``; ``items`` may be ORM
    objects, converted through ``TodoOut``'s ``from_attributes``. When ``TodoOut``'s
    JSON schema has ``examples``, ``Page[TodoOut]``'s has a page of the first one.
    """

    model_config = ConfigDict(from_attributes=True, json_schema_extra=_page_examples)

    items: list[ItemT]
    total: int = Field(ge=0, description="Items matching the query, on every page.")
    limit: int = Field(ge=1, description="The most items a page holds.")
    offset: int = Field(ge=0, description="How many matching items come before this page.")


@dataclass(frozen=True, slots=True)
class PageParams:
    """The requested window: ``limit`` items after ``offset``."""

    limit: int = 20
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
) -> PageParams:
    """Read ``?limit=&offset=`` (limit 1..100, default 20; offset >= 0)."""
    return PageParams(limit=limit, offset=offset)


Pagination = Annotated[PageParams, Depends(page_params)]
"""``limit`` (1-100, default 20) and ``offset`` query parameters; a 422 when out of range."""


async def paginate(session: AsyncSession, statement: Select[Any], params: PageParams) -> Page[Any]:
    """Run ``statement`` for one page, and count all its rows, in two small queries.

    The count runs on the statement without its ``ORDER BY``, as a subquery; the page
    applies ``LIMIT``/``OFFSET`` to the statement as given, so give it an
    ``order_by`` that is stable (ending with the primary key). Nothing beyond the
    page is loaded.

    Args:
        session: The session to query with.
        statement: A ``select()`` of the rows (ORM entities or columns).
        params: The window to return.

    Returns:
        The page; ``items`` are what ``session.scalars`` yields for the statement.
    """
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    total = (await session.execute(count)).scalar_one()
    rows = await session.scalars(statement.limit(params.limit).offset(params.offset))
    return Page[Any](items=list(rows), total=total, limit=params.limit, offset=params.offset)
