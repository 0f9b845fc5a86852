"""Private temporary directories for the servers, and stopping servers left running.

Servers live in private temporary directories (on ``/dev/shm`` when it is big enough)
and are torn down by whoever started them, even on failure. For interrupted runs, the
servers alive in this process are stopped by an ``atexit`` fallback, and SIGTERM is
turned into ``KeyboardInterrupt`` (so that pytest tears its fixtures down) while any runs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .common import ServiceStartError

if TYPE_CHECKING:
    from .binaries import OsUser
    from .managed import ManagedServer

TMPFS_MIN_FREE = 1 << 30
"""Free bytes ``/dev/shm`` needs before server directories go there (see :func:`make_temp_dir`)."""


def _traversable_by(path: Path, user: OsUser | None) -> bool:
    """Tell whether ``user`` (``None``: us) may traverse every directory down to ``path``."""
    if user is None:
        return os.access(path, os.W_OK | os.X_OK)
    for directory in [path, *path.parents]:
        info = directory.stat()
        if info.st_uid == user.uid:
            bit = stat.S_IXUSR
        elif info.st_gid in user.groups or info.st_gid == user.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def make_temp_dir(prefix: str, user: OsUser | None = None) -> Path:
    """Create a private temporary directory for a server, owned by ``user`` if given.

    ``/dev/shm`` (a RAM-backed tmpfs on Linux) is preferred when it has at least
    :data:`TMPFS_MIN_FREE` bytes free: a PostgreSQL cluster is thousands of small files
    and ``CREATE DATABASE`` on a disk is several times slower. Otherwise the directory
    goes into :func:`tempfile.gettempdir`, or ``/tmp`` if ``user`` cannot reach that.

    Args:
        prefix: Name prefix of the directory.
        user: Account that must own and traverse the directory; ``None`` for us.

    Returns:
        The new directory (mode 0700).

    Raises:
        ServiceStartError: If no candidate directory is usable by ``user``.
    """
    candidates: list[Path] = []
    shm = Path("/dev/shm")  # noqa: S108 - only a base for mkdtemp
    with contextlib.suppress(OSError):
        if shm.is_dir() and shutil.disk_usage(shm).free >= TMPFS_MIN_FREE:
            candidates.append(shm)
    candidates += [Path(tempfile.gettempdir()), Path("/tmp")]  # noqa: S108 - base for mkdtemp
    base = next((c for c in candidates if c.is_dir() and _traversable_by(c, user)), None)
    if base is None:
        who = "us" if user is None else user.name
        raise ServiceStartError(f"no temporary directory is usable by {who}: {candidates}")
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    if user is not None:
        os.chown(directory, user.uid, user.gid)
    return directory


# Servers alive in this process, stopped at interpreter exit if their owners could not.
_LIVE: dict[int, ManagedServer] = {}
_OWNER_PID = os.getpid()
_SIGTERM_INSTALLED = False


@atexit.register
def _close_leftovers() -> None:
    if os.getpid() != _OWNER_PID:  # a forked child must not stop its parent's servers
        return
    for server in list(_LIVE.values()):
        with contextlib.suppress(Exception):
            server.close()


def _on_sigterm(signum: int, frame: object) -> None:
    # Once only: a second SIGTERM kills the process the default way.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt(f"signal {signum}")


def register(server: ManagedServer) -> None:
    """Track a server for the ``atexit`` fallback.

    While servers are alive, SIGTERM (what CI sends on cancel or timeout) is turned into
    ``KeyboardInterrupt`` so that pytest tears the fixtures down and ``atexit`` runs;
    that happens only if nobody else handles SIGTERM and we are in the main thread.
    """
    global _SIGTERM_INSTALLED
    _LIVE[id(server)] = server
    if (
        not _SIGTERM_INSTALLED
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)
        _SIGTERM_INSTALLED = True


def unregister(server: ManagedServer) -> None:
    """Forget a closed server; restore SIGTERM's default once none is left."""
    global _SIGTERM_INSTALLED
    _LIVE.pop(id(server), None)
    if not _LIVE and _SIGTERM_INSTALLED and threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _SIGTERM_INSTALLED = False
