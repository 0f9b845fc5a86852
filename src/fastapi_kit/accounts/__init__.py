"""Accounts: ready-made routers over a user store, email verification, reset, TOTP.

For example:

```python
class User(UserMixin, Base):
    __tablename__ = "users"


def user_store(session: DbSession) -> SQLAlchemyUserStore[User]:
    return SQLAlchemyUserStore(session, User)


kit.use_auth(claims_only=True)
kit.use_mail()
kit.use_accounts()
for router in account_routers(user_store):
    app.include_router(router)
```

Needs the ``accounts`` extra: ``pip install "fastapi-kit[accounts]"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_kit._lazy import lazy_exports

if TYPE_CHECKING:
    from fastapi_kit.accounts.config import AccountsConfig
    from fastapi_kit.accounts.emails import email_key, normalize_email
    from fastapi_kit.accounts.mails import AccountMails, MailTemplate
    from fastapi_kit.accounts.routers import (
        UserStoreDependency,
        account_routers,
        auth_router,
        register_router,
        reset_password_router,
        users_router,
        verify_router,
    )
    from fastapi_kit.accounts.schemas import UserRead
    from fastapi_kit.accounts.service import Accounts, get_accounts
    from fastapi_kit.accounts.sqlalchemy import SQLAlchemyUserStore, UserMixin
    from fastapi_kit.accounts.store import AccountUser, UserStore
    from fastapi_kit.accounts.totp import TOTP, RecoveryCodes, TOTPEnrolment

__all__ = (
    "TOTP",
    "AccountMails",
    "AccountUser",
    "Accounts",
    "AccountsConfig",
    "MailTemplate",
    "RecoveryCodes",
    "SQLAlchemyUserStore",
    "TOTPEnrolment",
    "UserMixin",
    "UserRead",
    "UserStore",
    "UserStoreDependency",
    "account_routers",
    "auth_router",
    "email_key",
    "get_accounts",
    "normalize_email",
    "register_router",
    "reset_password_router",
    "users_router",
    "verify_router",
)

# Imported on first use: most of the block needs the ``accounts`` extra, and the
# settings read ``AccountsConfig``'s defaults without it.
__getattr__ = lazy_exports(
    __name__,
    {
        "AccountMails": "fastapi_kit.accounts.mails",
        "AccountUser": "fastapi_kit.accounts.store",
        "Accounts": "fastapi_kit.accounts.service",
        "AccountsConfig": "fastapi_kit.accounts.config",
        "MailTemplate": "fastapi_kit.accounts.mails",
        "RecoveryCodes": "fastapi_kit.accounts.totp",
        "SQLAlchemyUserStore": "fastapi_kit.accounts.sqlalchemy",
        "TOTP": "fastapi_kit.accounts.totp",
        "TOTPEnrolment": "fastapi_kit.accounts.totp",
        "UserMixin": "fastapi_kit.accounts.sqlalchemy",
        "UserRead": "fastapi_kit.accounts.schemas",
        "UserStore": "fastapi_kit.accounts.store",
        "UserStoreDependency": "fastapi_kit.accounts.routers",
        "account_routers": "fastapi_kit.accounts.routers",
        "auth_router": "fastapi_kit.accounts.routers",
        "email_key": "fastapi_kit.accounts.emails",
        "get_accounts": "fastapi_kit.accounts.service",
        "normalize_email": "fastapi_kit.accounts.emails",
        "register_router": "fastapi_kit.accounts.routers",
        "reset_password_router": "fastapi_kit.accounts.routers",
        "users_router": "fastapi_kit.accounts.routers",
        "verify_router": "fastapi_kit.accounts.routers",
    },
)
