"""An app made of the kit's account routers over a model of its own, for the tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from fastapi_kit import Kit, KitSettings
from fastapi_kit.accounts import (
    SQLAlchemyUserStore,
    UserMixin,
    account_routers,
)
from fastapi_kit.db import NAMING_CONVENTION, DbSession
from fastapi_kit.mail import MailMessage, MailSender, MemoryMailSender

SECRET = "accounts-test-secret-0123456789-abcdef"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new long passphrase"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(UserMixin, Base):
    __tablename__ = "users"


def user_store(session: DbSession) -> SQLAlchemyUserStore[User]:
    return SQLAlchemyUserStore(session, User)


@dataclass
class AccountsApp:
    app: FastAPI
    kit: Kit
    mail: MailSender


def make_app(
    database_url: str,
    *,
    redis_url: str | None = None,
    mail: MailSender | None = None,
    **settings: Any,
) -> AccountsApp:
    """The account routers, on ``database_url`` (tables made at start-up)."""
    options: dict[str, Any] = {
        "secret_key": SECRET,
        "database_url": database_url,
        "redis_url": redis_url,
        "public_url": "https://app.example.com",
        "rate_limit_auth": "1000/minute",
        "rate_limit_default": "1000/minute",
    }
    kit = Kit(KitSettings(**(options | settings)))
    kit.use_auth(claims_only=True)
    # SMTP_URL's sender, the one given, or a memory sender whose mail the tests read.
    if mail is None and "smtp_url" not in settings:
        mail = MemoryMailSender()
    sender = kit.use_mail(mail)
    kit.use_accounts(app_name="Accounts Test")
    kit.use_rate_limit()
    database = kit.database
    assert database is not None

    @asynccontextmanager
    async def create_tables(_app: object) -> AsyncIterator[None]:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        yield

    kit.add_lifespan(create_tables)
    app = FastAPI()
    for router in account_routers(user_store):
        app.include_router(router)
    kit.install(app)
    return AccountsApp(app, kit, sender)


def token_of(message: MailMessage) -> str:
    """The token on the text part's ``Token:`` line."""
    [token] = re.findall(r"^Token: (\S+)$", message.text, re.MULTILINE)
    return token


async def register(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Any:
    response = await client.post("/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return response.json()


async def log_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **form: str
) -> httpx.Response:
    return await client.post("/auth/token", data={"username": email, "password": password, **form})


def bearer(tokens: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
