"""The service's settings: every ``KitSettings`` variable, plus the admin to ensure."""

from __future__ import annotations

from typing import Self

from pydantic import EmailStr, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from fastapi_kit import KitSettings

__all__ = ("Settings",)


class Settings(KitSettings):
    """Read from the environment (``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``...).

    A ``.env`` file in the working directory is read too (``.env.example`` lists
    every variable); the environment wins over it. Unknown or invalid values, in
    either, stop the service at start-up with a message naming the variable.
    """

    model_config = SettingsConfigDict(env_file=".env")

    database_url: SecretStr | None = Field(
        SecretStr("sqlite+aiosqlite:///./todo.db"),
        description="SQLAlchemy async URL; `postgresql+asyncpg://...` in production.",
    )
    auth_token_url: str = Field(
        "/api/v1/auth/token", description="The login route Swagger's Authorize button posts to."
    )
    admin_email: EmailStr | None = Field(
        None, description="With `ADMIN_PASSWORD`: this user is ensured, with role `admin`."
    )
    admin_password: SecretStr | None = Field(
        None, description="The ensured admin's password, when the account is created."
    )

    @model_validator(mode="after")
    def _admin_needs_both(self) -> Self:
        if (self.admin_email is None) != (self.admin_password is None):
            msg = "set both ADMIN_EMAIL and ADMIN_PASSWORD, or neither"
            raise ValueError(msg)
        return self
