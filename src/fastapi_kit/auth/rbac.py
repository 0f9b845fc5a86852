"""Role-based access control: ``require_role`` and ``require_permission``.

Both work as a dependency and as a decorator:

```python
@app.get("/admin/stats", dependencies=[Depends(require_role("admin"))])
async def stats() -> dict[str, int]: ...


@app.get("/admin/report")
@require_role("admin", "auditor")  # any of the listed roles
async def report(user: CurrentUser) -> dict[str, str]: ...
```

Missing or invalid credentials give 401; an authenticated user without the role
gets 403 ``forbidden``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request  # noqa: TC002  # FastAPI reads the check's annotations at run time

from fastapi_kit._depends import DependencyDecorator
from fastapi_kit.auth.dependencies import CurrentUser, get_auth_or_none
from fastapi_kit.auth.roles import RolePolicy
from fastapi_kit.errors import Forbidden

if TYPE_CHECKING:
    from collections.abc import Collection

    from fastapi_kit.auth.users import UserProtocol

__all__ = (
    "PermissionRequirement",
    "RolePolicy",
    "RoleRequirement",
    "require_permission",
    "require_role",
)


_NO_POLICY = RolePolicy()


class _Requirement(DependencyDecorator):
    """A role or permission check: a dependency that is also a decorator."""

    kind = ""

    def __init__(self, names: tuple[str, ...]) -> None:
        if not names:
            msg = f"name at least one {self.kind}"
            raise ValueError(msg)
        self.names = frozenset(names)

        async def check(request: Request, user: CurrentUser) -> UserProtocol:
            auth = get_auth_or_none(request)
            policy = auth.role_policy if auth is not None else _NO_POLICY
            if not self.allows(policy, user.roles):
                raise Forbidden(f"Requires {self.describe()}.")
            return user

        self.__wrapped__ = check

    def allows(self, policy: RolePolicy, roles: Collection[str]) -> bool:
        """Whether a user with ``roles`` passes, under ``policy``."""
        raise NotImplementedError

    def describe(self) -> str:
        """What is required, for humans: ``role `admin` or `auditor```."""
        listed = " or ".join(f"`{name}`" for name in sorted(self.names))
        return f"{self.kind} {listed}"

    def __repr__(self) -> str:
        return f"require_{self.kind}({', '.join(map(repr, sorted(self.names)))})"


class RoleRequirement(_Requirement):
    """Passes users holding any of the roles (or a role that includes one)."""

    kind = "role"

    def allows(self, policy: RolePolicy, roles: Collection[str]) -> bool:
        """Whether ``roles``, expanded by the hierarchy, meet any required role."""
        return not self.names.isdisjoint(policy.expand(roles))


class PermissionRequirement(_Requirement):
    """Passes users whose roles grant any of the permissions."""

    kind = "permission"

    def allows(self, policy: RolePolicy, roles: Collection[str]) -> bool:
        """Whether ``roles`` grant any required permission."""
        return not self.names.isdisjoint(policy.permissions_of(roles))


def require_role(*roles: str) -> RoleRequirement:
    """Require any of ``roles``: as ``Depends(require_role(...))`` or as a decorator.

    With a [`RolePolicy`][fastapi_kit.auth.RolePolicy] hierarchy, a role also
    counts for the roles it includes (``admin`` passes ``require_role("user")``).
    """
    return RoleRequirement(roles)


def require_permission(*permissions: str) -> PermissionRequirement:
    """Require any of ``permissions``, granted through the policy's role mapping."""
    return PermissionRequirement(permissions)
