"""The app the database tests drive over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from db.models import Owner, Widget
from fastapi_kit.db import Database, DbSession, Page, Pagination, paginate
from fastapi_kit.errors import NotFound, install_error_handlers


class OwnerIn(BaseModel):
    email: str


class WidgetIn(BaseModel):
    name: str
    owner_id: int
    quantity: int = 0


class WidgetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    quantity: int
    owner_id: int


class Gate:
    """Lets tests hold requests inside the endpoint, connection checked out."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.entered = 0


async def session_of_a_dependency(session: DbSession) -> int:
    return id(session)


def make_app(database: Database, gate: Gate | None = None, *, lifespan: bool = True) -> FastAPI:
    """The test routes; ``lifespan=False`` when ``Kit`` installs the database instead."""
    app = FastAPI(lifespan=database.lifespan) if lifespan else FastAPI()
    install_error_handlers(app)
    gate = gate or Gate()

    @app.post("/owners", status_code=201)
    async def create_owner(body: OwnerIn, session: DbSession) -> dict[str, int]:
        owner = Owner(email=body.email)
        session.add(owner)
        await session.flush()
        return {"id": owner.id}

    @app.post("/owners/unflushed", status_code=201)
    async def create_owner_unflushed(body: OwnerIn, session: DbSession) -> dict[str, str]:
        session.add(Owner(email=body.email))  # the INSERT happens at commit
        return {"email": body.email}

    @app.post("/widgets", status_code=201)
    async def create_widget(body: WidgetIn, session: DbSession) -> WidgetOut:
        widget = Widget(**body.model_dump())
        session.add(widget)
        await session.flush()
        return WidgetOut.model_validate(widget)

    @app.get("/widgets", response_model=Page[WidgetOut])
    async def list_widgets(session: DbSession, page: Pagination) -> Page[Any]:
        return await paginate(session, select(Widget).order_by(Widget.id), page)

    @app.post("/owners/then-404")
    async def create_then_404(body: OwnerIn, session: DbSession) -> None:
        session.add(Owner(email=body.email))
        await session.flush()
        raise NotFound("changed my mind")

    @app.post("/owners/then-crash")
    async def create_then_crash(body: OwnerIn, session: DbSession) -> None:
        session.add(Owner(email=body.email))
        await session.flush()
        msg = "boom after the INSERT"
        raise RuntimeError(msg)

    @app.get("/shared")
    async def shared(
        session: DbSession, other: Annotated[int, Depends(session_of_a_dependency)]
    ) -> Mapping[str, bool]:
        return {"same": id(session) == other}

    @app.get("/count")
    async def count(session: DbSession) -> dict[str, int]:
        return {"owners": (await session.scalar(select(func.count()).select_from(Owner))) or 0}

    @app.get("/held")
    async def held(session: DbSession) -> dict[str, int]:
        value = (await session.execute(select(1))).scalar_one()  # a connection is out
        gate.entered += 1
        await gate.open.wait()
        return {"value": value}

    return app
