"""A kit app for ``uvicorn --workers N``: settings from the environment."""

from fastapi import APIRouter, FastAPI

from fastapi_kit import Kit, KitSettings

kit = Kit(KitSettings())
app = FastAPI()
items = APIRouter(prefix="/api/items")


@items.get("/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    """One item, by id."""
    return {"id": item_id}


app.include_router(items)
kit.install(app)
