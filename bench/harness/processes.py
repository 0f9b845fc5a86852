"""The processes of a measurement: uvicorn serving a contender, the session's Redis, pinning.

Each uvicorn server runs in its own process group, its output in a log file, and is
stopped as a whole (SIGTERM, then SIGKILL) with Ctrl-C, SIGTERM and SIGHUP held back
until it is gone. The Redis server is the test suite's launcher (``RedisServer`` from
``tests/services``, see ``harness/__init__.py``), started through ``taskset`` when pinning.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from tests.services import (
    LOOPBACK,
    RedisServer,
    ServiceStartError,
    find_redis_server,
    free_port,
    log_tail,
)

from scenarios import APPS_DIR, REPO_DIR

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scenarios import Contender

HOST = LOOPBACK
SERVER_CPU = 0
WRK_CPU = 1
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
#: Signals held back while a server is being stopped.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
REDIS_MISSING = "redis-server not found: install it with 'apt-get install -y redis-server'"
SERVER_ENV = {"LOG_LEVEL": "INFO"}
#: uvicorn flags shared by every contender; logging is uvicorn's default (access log
#: on) unless a contender adds its own flags.
UVICORN_FLAGS = ("--workers=1", "--loop=uvloop", "--http=httptools")
#: Lines of a server's log quoted when it fails.
LOG_TAIL_LINES = 20


class BenchError(Exception):
    """A measurement could not be made (server did not start, wrk failed...)."""


def can_pin() -> bool:
    """Return whether ``taskset`` exists and both bench CPUs are usable."""
    return shutil.which("taskset") is not None and {SERVER_CPU, WRK_CPU} <= os.sched_getaffinity(0)


def pin_prefix(cpu: int, pinned: bool) -> list[str]:
    """Return the command prefix that pins a command to ``cpu`` (empty when not pinning).

    Args:
        cpu: The CPU number.
        pinned: Whether pinning is on.

    Returns:
        ``["taskset", "-c", cpu]`` or ``[]``.
    """
    return ["taskset", "-c", str(cpu)] if pinned else []


def server_command(contender: Contender, port: int, pinned: bool) -> list[str]:
    """Return the uvicorn command line serving ``contender`` on ``port``.

    Args:
        contender: What to serve.
        port: The TCP port.
        pinned: Whether to pin the server to ``SERVER_CPU``.

    Returns:
        The argv; the same flags for every contender.
    """
    return [
        *pin_prefix(SERVER_CPU, pinned),
        sys.executable,
        "-m",
        "uvicorn",
        contender.app,
        "--app-dir",
        str(APPS_DIR),
        "--host",
        HOST,
        "--port",
        str(port),
        *UVICORN_FLAGS,
        *contender.uvicorn_args,
    ]


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Hold back ``STOP_SIGNALS`` until the block is done, then deliver them.

    A second Ctrl-C must not cut a clean-up short.
    """
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the process group led by ``proc``: SIGTERM, then SIGKILL after a grace period.

    Args:
        proc: A process started with ``start_new_session=True``.
    """
    with held_signals():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers, or a server ignoring SIGTERM
        proc.wait()


def http_get(url: str) -> tuple[int | None, str]:
    """Return the status and body of ``GET url`` (no proxies); ``None`` when unreachable.

    Args:
        url: An ``http://`` URL on ``HOST``.

    Returns:
        The HTTP status (or ``None``) and the body text.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1.0) as response:
            status: int = response.status
            return status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return None, ""


def wait_ready(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    """Poll ``url`` until it answers 200.

    Args:
        proc: The server process.
        url: The URL wrk will load.
        log_path: The server's log, quoted when it fails.

    Raises:
        BenchError: The server exited, or did not answer 200 within ``READY_TIMEOUT_S``.
    """
    deadline = time.monotonic() + READY_TIMEOUT_S
    status: int | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_tail(log_path, lines=LOG_TAIL_LINES)
            msg = f"server exited with status {proc.returncode}:\n{tail}"
            raise BenchError(msg)
        status, _ = http_get(url)
        if status == 200:
            return
        time.sleep(0.1)
    msg = f"{url} not ready after {READY_TIMEOUT_S:.0f} s (last status {status}):\n"
    raise BenchError(msg + log_tail(log_path, lines=LOG_TAIL_LINES))


@contextlib.contextmanager
def running_server(
    contender: Contender, log_path: Path, pinned: bool, redis_url: str | None = None
) -> Iterator[tuple[str, int]]:
    """Serve ``contender`` until the block exits, then stop its whole process group.

    Args:
        contender: What to serve.
        log_path: Where the server's stdout and stderr go.
        pinned: Whether to pin the server to ``SERVER_CPU``.
        redis_url: The harness's Redis, given as ``REDIS_URL`` to contenders that
            need it.

    Yields:
        The URL to load, once it answers 200, and the server's process id.
    """
    port = free_port()
    url = f"http://{HOST}:{port}{contender.path}"
    ready_path = contender.token_path or contender.ready_path or contender.path
    ready_url = f"http://{HOST}:{port}{ready_path}"
    env = {**os.environ, **SERVER_ENV, **contender.env}
    env.pop("REDIS_URL", None)
    if contender.needs_redis and redis_url is not None:
        env["REDIS_URL"] = redis_url
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            server_command(contender, port, pinned),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_DIR,
            start_new_session=True,  # its own process group, killed as a whole
        )
    try:
        wait_ready(proc, ready_url, log_path)
        yield url, proc.pid
    finally:
        stop_process_group(proc)


@contextlib.contextmanager
def redis_server(pinned: bool) -> Iterator[str]:
    """Run a throwaway Redis (no persistence) until the block exits.

    It is pinned with wrk (its CPU use is small), so the app server keeps its core.

    Args:
        pinned: Whether to pin it to ``WRK_CPU``.

    Yields:
        Its URL, once it answers ``PING``.

    Raises:
        BenchError: ``redis-server`` is missing, exited, or did not answer in time.
    """
    binary = find_redis_server()
    if binary is None:
        raise BenchError(REDIS_MISSING)
    server = RedisServer(
        binary, startup_timeout=READY_TIMEOUT_S, prefix=pin_prefix(WRK_CPU, pinned)
    )
    try:
        server.start()
    except ServiceStartError as exc:
        with held_signals():
            server.close()
        msg = f"redis-server did not start: {exc}"
        raise BenchError(msg) from exc
    try:
        yield server.url
    finally:
        with held_signals():
            server.close()


def redis_answers(url: str) -> bool:
    """Return whether the Redis at ``url`` answers ``PING``."""
    try:
        with redis.Redis.from_url(url, socket_timeout=1.0) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def flush_redis(url: str) -> None:
    """Empty the Redis at ``url``, so that each measurement starts from a cold cache."""
    with redis.Redis.from_url(url, socket_timeout=5.0) as client:
        client.flushall()


def count_lines(path: Path) -> int:
    """Return the number of lines in the file at ``path``."""
    count = 0
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            count += chunk.count(b"\n")
    return count


def process_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")
