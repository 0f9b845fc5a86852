"""paginate() and the Pagination parameters: totals, bounds, empty pages."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from db.app import make_app
from db.models import Owner, Widget
from fastapi_kit.db import MAX_OFFSET, Database, Page
from fastapi_kit.testing import app_client


async def add_widgets(database: Database, count: int) -> None:
    async with database.transaction() as session:
        owner = Owner(email="o@example.com")
        session.add(owner)
        await session.flush()
        session.add_all(Widget(name=f"w{n:02d}", owner_id=owner.id) for n in range(count))


async def test_pages_cover_the_results_in_order(database: Database) -> None:
    await add_widgets(database, 25)
    async with app_client(make_app(database)) as client:
        first = (await client.get("/widgets")).json()
        second = (await client.get("/widgets", params={"limit": 10, "offset": 20})).json()
    assert (first["total"], first["limit"], first["offset"]) == (25, 20, 0)
    assert [item["name"] for item in first["items"]] == [f"w{n:02d}" for n in range(20)]
    assert (second["total"], second["limit"], second["offset"]) == (25, 10, 20)
    assert [item["name"] for item in second["items"]] == [f"w{n:02d}" for n in range(20, 25)]
    assert set(first["items"][0]) == {"id", "name", "quantity", "owner_id"}


async def test_a_page_past_the_end_is_empty_with_the_total(database: Database) -> None:
    await add_widgets(database, 3)
    async with app_client(make_app(database)) as client:
        page = (await client.get("/widgets", params={"offset": 50})).json()
    assert page == {"items": [], "total": 3, "limit": 20, "offset": 50}


async def test_no_rows_is_an_empty_first_page(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        page = (await client.get("/widgets")).json()
    assert page == {"items": [], "total": 0, "limit": 20, "offset": 0}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": MAX_OFFSET + 1},
        {"offset": "9" * 40},
    ],
)
async def test_out_of_range_parameters_are_422s(
    database: Database, params: dict[str, object]
) -> None:
    async with app_client(make_app(database)) as client:
        response = await client.get("/widgets", params=params)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_the_largest_offset_is_accepted(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        response = await client.get("/widgets", params={"offset": MAX_OFFSET, "limit": 100})
    assert response.json() == {"items": [], "total": 0, "limit": 100, "offset": MAX_OFFSET}


def test_a_page_schema_shows_a_page_of_its_items_example() -> None:
    class Shown(BaseModel):
        model_config = ConfigDict(json_schema_extra={"examples": [{"id": 1}, {"id": 2}]})
        id: int

    class Plain(BaseModel):
        id: int

    example = {"items": [{"id": 1}], "total": 1, "limit": 20, "offset": 0}
    assert Page[Shown].model_json_schema()["examples"] == [example]
    Page[Shown].model_validate(example)
    assert "examples" not in Page[Plain].model_json_schema()
    assert "examples" not in Page[int].model_json_schema()
