"""Authentication and RBAC: transports, the JWT strategy, passwords, current user, roles.

For example:

```python
from fastapi_kit.auth import CurrentUser, require_role


@app.get("/users/me")
async def me(user: CurrentUser) -> dict[str, str]: ...


@app.get("/admin/stats", dependencies=[Depends(require_role("admin"))])
async def stats() -> dict[str, int]: ...
```
"""

from __future__ import annotations

from fastapi_kit._lazy import lazy_exports
from fastapi_kit.auth.config import MAX_LEEWAY, AuthConfig, SigningKey
from fastapi_kit.auth.dependencies import (
    CurrentUser,
    OptionalUser,
    get_auth,
    get_current_user,
    get_optional_user,
    require_same_origin,
)
from fastapi_kit.auth.forms import PasswordLoginForm, PasswordLoginRequest
from fastapi_kit.auth.install import install_auth
from fastapi_kit.auth.passwords import (
    CryptContextHasher,
    PasswordHasher,
    hash_password,
    verify_and_update,
    verify_password,
)
from fastapi_kit.auth.policy import PasswordPolicy, validate_password
from fastapi_kit.auth.purpose import Purpose, PurposeTokens
from fastapi_kit.auth.rbac import (
    PermissionRequirement,
    RoleRequirement,
    require_permission,
    require_role,
)
from fastapi_kit.auth.revocation import (
    MemoryRevocationStore,
    RevocationStoreError,
    TokenRevocationStore,
)
from fastapi_kit.auth.roles import RolePolicy
from fastapi_kit.auth.service import Auth
from fastapi_kit.auth.strategy import JWTStrategy, Strategy
from fastapi_kit.auth.tokens import TokenClaims, TokenPair, TokenService
from fastapi_kit.auth.transports import (
    BearerTransport,
    CookieTransport,
    TokenResponse,
    Transport,
)
from fastapi_kit.auth.users import LoginUser, TokenUser, UserLoader, UserLookup, UserProtocol

__all__ = (
    "MAX_LEEWAY",
    "Auth",
    "AuthConfig",
    "BearerTransport",
    "CookieTransport",
    "CryptContextHasher",
    "CurrentUser",
    "JWTStrategy",
    "LoginUser",
    "MemoryRevocationStore",
    "OptionalUser",
    "PasswordHasher",
    "PasswordLoginForm",
    "PasswordLoginRequest",
    "PasswordPolicy",
    "PermissionRequirement",
    "Purpose",
    "PurposeTokens",
    "RedisRevocationStore",
    "RevocationStoreError",
    "RolePolicy",
    "RoleRequirement",
    "SigningKey",
    "Strategy",
    "TokenClaims",
    "TokenPair",
    "TokenResponse",
    "TokenRevocationStore",
    "TokenService",
    "TokenUser",
    "Transport",
    "UserLoader",
    "UserLookup",
    "UserProtocol",
    "get_auth",
    "get_current_user",
    "get_optional_user",
    "hash_password",
    "install_auth",
    "require_permission",
    "require_role",
    "require_same_origin",
    "validate_password",
    "verify_and_update",
    "verify_password",
)


# RedisRevocationStore needs an optional extra: imported on first use only.
__getattr__ = lazy_exports(__name__, {"RedisRevocationStore": "fastapi_kit.auth.revocation.redis"})
