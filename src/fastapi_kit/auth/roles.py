"""``RolePolicy``: an app's role hierarchy and the permissions its roles grant."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

__all__ = ("RolePolicy",)


class RolePolicy:
    """Role hierarchy and role-to-permission mapping of an app.

    For example:

    ```python
    RolePolicy(
        hierarchy={"admin": ["editor"], "editor": ["user"]},  # admin includes editor...
        permissions={"editor": ["todos:write"], "user": ["todos:read"]},
    )
    ```

    Args:
        hierarchy: For each role, the roles it includes (transitively).
        permissions: For each role, the permissions it grants.
    """

    def __init__(
        self,
        *,
        hierarchy: Mapping[str, Collection[str]] | None = None,
        permissions: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.hierarchy = {role: frozenset(included) for role, included in (hierarchy or {}).items()}
        self.permissions = {
            role: frozenset(granted) for role, granted in (permissions or {}).items()
        }
        self._expanded: dict[frozenset[str], frozenset[str]] = {}

    def expand(self, roles: Collection[str]) -> frozenset[str]:
        """Return ``roles`` and every role they include."""
        key = frozenset(roles)
        expanded = self._expanded.get(key)
        if expanded is None:
            found, pending = set(key), list(key)
            while pending:
                for included in self.hierarchy.get(pending.pop(), ()):
                    if included not in found:
                        found.add(included)
                        pending.append(included)
            expanded = self._expanded[key] = frozenset(found)
        return expanded

    def permissions_of(self, roles: Collection[str]) -> frozenset[str]:
        """Return every permission ``roles`` (and the roles they include) grant."""
        granted: set[str] = set()
        for role in self.expand(roles):
            granted |= self.permissions.get(role, frozenset())
        return frozenset(granted)
