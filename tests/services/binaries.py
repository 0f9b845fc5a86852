"""Finding the server binaries and the account PostgreSQL runs as; skipping without them.

When a binary is missing the ``require_*`` functions skip the test, naming the binary;
with ``KIT_REQUIRE_SERVICES=1`` in the environment they fail it instead, so CI cannot
silently lose the service-backed tests.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from collections.abc import Sequence

REQUIRE_SERVICES_ENV = "KIT_REQUIRE_SERVICES"
"""Environment variable that turns "binary missing" skips into failures (set it to ``1``)."""

POSTGRES_BINARIES = ("initdb", "pg_ctl", "postgres", "psql")
"""Programs that must all live in one PostgreSQL ``bin`` directory."""

POSTGRES_BINDIR_GLOBS: tuple[str, ...] = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL, Fedora (PGDG packages)
    "/usr/local/pgsql/bin",  # built from source
    "/opt/homebrew/opt/postgresql@*/bin",  # Homebrew on Apple silicon
    "/usr/local/opt/postgresql@*/bin",  # Homebrew on Intel
)
"""Fallback locations searched for PostgreSQL binaries; the newest version wins."""


def services_required() -> bool:
    """Tell whether service-backed tests are mandatory.

    Returns:
        ``True`` when ``KIT_REQUIRE_SERVICES`` is ``1`` (or ``true``/``yes``/``on``, any
        case), ``False`` when it is unset, empty or anything else.
    """
    value = os.environ.get(REQUIRE_SERVICES_ENV, "").strip().lower()
    return value in {"1", "true", "yes", "on"}


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the current test, or fail it when services are required.

    Args:
        reason: Why the service is unavailable; should name the missing binary.

    Raises:
        pytest.fail.Exception: When :func:`services_required` is true.
        pytest.skip.Exception: Otherwise.
    """
    import pytest  # here, not above: bench/ imports this package outside pytest

    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_SERVICES_ENV}=1 makes this a failure)", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_SERVICES_ENV}=1 to fail instead of skipping)")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_redis_server(path: str | None = None) -> Path | None:
    """Locate ``redis-server``.

    Args:
        path: A ``PATH``-style search string; defaults to the ``PATH`` environment variable.

    Returns:
        The absolute path of ``redis-server``, or ``None`` if it is not on the path.
    """
    found = shutil.which("redis-server", path=path)
    return Path(found).absolute() if found else None


def find_prometheus(path: str | None = None) -> Path | None:
    """Locate ``prometheus``.

    Args:
        path: A ``PATH``-style search string; defaults to the ``PATH`` environment variable.

    Returns:
        The absolute path of ``prometheus``, or ``None`` if it is not on the path.
    """
    found = shutil.which("prometheus", path=path)
    return Path(found).absolute() if found else None


def _complete_bindir(directory: Path) -> bool:
    return all(_is_executable(directory / name) for name in POSTGRES_BINARIES)


def _version_key(directory: Path) -> tuple[int, ...]:
    # "/usr/lib/postgresql/15/bin" -> (15,), "/usr/pgsql-9.6/bin" -> (9, 6); unversioned -> ()
    match = re.search(r"(\d+(?:\.\d+)*)$", directory.parent.name)
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def _bindir_from_pg_config(path: str | None) -> Path | None:
    pg_config = shutil.which("pg_config", path=path)
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    output = result.stdout.strip()
    return Path(output) if result.returncode == 0 and output else None


def find_postgres_bindir(
    path: str | None = None, globs: Sequence[str] | None = None
) -> Path | None:
    """Locate a PostgreSQL ``bin`` directory holding all of :data:`POSTGRES_BINARIES`.

    The candidates are tried in this order: the directory of ``pg_ctl`` found on the
    path (symlinks resolved, so ``/usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin``
    works), the output of ``pg_config --bindir``, then ``globs``, newest version first.

    Args:
        path: A ``PATH``-style search string; defaults to the ``PATH`` environment variable.
        globs: Fallback directory patterns; defaults to :data:`POSTGRES_BINDIR_GLOBS`.

    Returns:
        The first complete directory, or ``None`` if there is none.
    """
    candidates: list[Path] = []
    pg_ctl = shutil.which("pg_ctl", path=path)
    if pg_ctl is not None:
        candidates += [Path(pg_ctl).resolve().parent, Path(pg_ctl).absolute().parent]
    from_pg_config = _bindir_from_pg_config(path)
    if from_pg_config is not None:
        candidates.append(from_pg_config)
    patterns = POSTGRES_BINDIR_GLOBS if globs is None else globs
    globbed = [Path(match) for pattern in patterns for match in glob.glob(pattern)]
    candidates += sorted(globbed, key=_version_key, reverse=True)
    return next((c for c in candidates if _complete_bindir(c)), None)


@dataclass(frozen=True)
class OsUser:
    """An unprivileged operating-system account that runs PostgreSQL when we are root.

    Attributes:
        name: Login name.
        uid: User id.
        gid: Primary group id.
        groups: Supplementary group ids.
    """

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


def find_postgres_os_user(candidates: Sequence[str] = ("postgres", "nobody")) -> OsUser | None:
    """Pick the account PostgreSQL runs as (it refuses to run as root).

    Args:
        candidates: Account names to try, in order of preference.

    Returns:
        The first existing non-root account, or ``None`` if there is none.
    """
    import pwd  # POSIX only: imported here so that this module imports everywhere

    for name in candidates:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            groups = tuple(os.getgrouplist(name, entry.pw_gid))
            return OsUser(name, entry.pw_uid, entry.pw_gid, groups)
    return None


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)  # absent on Windows
    return geteuid is not None and geteuid() == 0


def require_redis_server() -> Path:
    """Return the ``redis-server`` binary, or skip/fail the test (see :func:`skip_or_fail`).

    Returns:
        The absolute path of ``redis-server``.
    """
    binary = find_redis_server()
    if binary is None:
        skip_or_fail("redis-server not found on PATH (install the redis-server package)")
    return binary


def require_prometheus() -> Path:
    """Return the ``prometheus`` binary, or skip/fail the test (see :func:`skip_or_fail`).

    Returns:
        The absolute path of ``prometheus``.
    """
    binary = find_prometheus()
    if binary is None:
        skip_or_fail("prometheus not found on PATH (install the prometheus package)")
    return binary


def require_postgres_bindir() -> Path:
    """Return the PostgreSQL ``bin`` directory, or skip/fail the test.

    Returns:
        A directory holding :data:`POSTGRES_BINARIES`, see :func:`find_postgres_bindir`.
    """
    bindir = find_postgres_bindir()
    if bindir is None:
        skip_or_fail(
            f"PostgreSQL binaries ({', '.join(POSTGRES_BINARIES)}) not found: no pg_ctl on "
            f"PATH, no usable `pg_config --bindir`, nothing in {', '.join(POSTGRES_BINDIR_GLOBS)}"
        )
    return bindir


def require_postgres_os_user() -> OsUser | None:
    """Return the account PostgreSQL must run as, or skip/fail the test.

    Returns:
        ``None`` when we are not root (the server runs as the current user), otherwise the
        result of :func:`find_postgres_os_user`.
    """
    if not _is_root():
        return None
    user = find_postgres_os_user()
    if user is None:
        skip_or_fail("running as root and no unprivileged `postgres` user exists to run PostgreSQL")
    return user
