"""Accounts with Kit: the ready-made routers over a user model of the app's own."""

# --8<-- [start:models]
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from fastapi_kit import Kit, KitSettings
from fastapi_kit.accounts import (
    AccountMails,
    MailTemplate,
    SQLAlchemyUserStore,
    UserMixin,
    auth_router,
    register_router,
    reset_password_router,
    users_router,
    verify_router,
)
from fastapi_kit.db import NAMING_CONVENTION, DbSession


class Base(DeclarativeBase):
    """The app's own declarative base."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(UserMixin, Base):
    """An account: UserMixin's columns in the app's table."""

    __tablename__ = "users"


def user_store(session: DbSession) -> SQLAlchemyUserStore[User]:
    """The request's user store, over the request's session."""
    return SQLAlchemyUserStore(session, User)


# --8<-- [end:models]

# --8<-- [start:mails]
WELCOME = MailTemplate(
    subject="Welcome to $app_name: confirm your address",
    text="""\
Hi,

Confirm that $email is yours by opening this link:

$link

Or paste this code into the app:

Token: $token
""",
)  # no html: a text-only mail

# The reset mail stays the default one.
MAILS = AccountMails(app_name="Todo", verify=WELCOME)
# --8<-- [end:mails]

# --8<-- [start:app]
kit = Kit(KitSettings())  # SECRET_KEY, DATABASE_URL, SMTP_URL...
kit.use_auth(claims_only=True)
kit.use_mail()
kit.use_accounts(app_name="Todo", mails=MAILS)
kit.use_rate_limit()  # the routers' budgets


@asynccontextmanager
async def create_tables(_app: FastAPI) -> AsyncIterator[None]:
    """Create the tables at start-up (or run your migrations)."""
    if kit.database is None:
        msg = "set DATABASE_URL"
        raise RuntimeError(msg)
    async with kit.database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield


kit.add_lifespan(create_tables)
app = FastAPI()
for router in (  # or all five: account_routers(user_store)
    auth_router(user_store),  # logins, refresh, logouts
    register_router(user_store),
    verify_router(user_store),
    reset_password_router(user_store),
    users_router(user_store),  # /users/me, password, TOTP
):
    app.include_router(router)
kit.install(app)
# --8<-- [end:app]
