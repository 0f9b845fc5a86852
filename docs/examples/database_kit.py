"""The database with Kit: DATABASE_URL is enough."""

from fastapi import FastAPI

from fastapi_kit import Kit, KitSettings

kit = Kit(KitSettings())  # DATABASE_URL=postgresql+asyncpg://app:...@db/app, DB_* settings
app = kit.install(FastAPI())  # DbSession works, /readyz checks "database"
