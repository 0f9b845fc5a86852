"""Benchmark harness: serve each contender with uvicorn, load it with wrk, print a table.

Run it with ``make bench`` (``BENCH_ARGS="--quick"`` for a smoke run) or directly::

    .venv/bin/python bench/run.py [--duration S] [--connections N] [--rounds N]
                                  [--scenario NAME ...] [--json PATH] [--chart PATH]
                                  [--quick]

``--chart docs/images/benchmarks.svg`` also keeps the results it draws beside the
chart (``docs/images/benchmarks.json``); to redraw the chart after changing how it
is drawn, without measuring again::

    .venv/bin/python bench/run.py --from-json docs/images/benchmarks.json \
                                  --chart docs/images/benchmarks.svg

A *scenario* compares one or more *candidate* contenders with a *baseline*
contender and states the lowest acceptable throughput ratio candidate/baseline.
A *contender* is an ASGI app in ``bench/apps/`` (``module:attribute``) plus the
path wrk requests. To add a scenario, add its app module(s) to ``bench/apps/`` and
append a ``Scenario`` to ``SCENARIOS`` below; nothing else changes.

Method:

* one uvicorn server at a time, one worker, uvloop + httptools, uvicorn's default
  logging (one access line per request) unless a contender says otherwise; its
  output goes to a log file in a temporary directory;
* the server is pinned to CPU 0 and wrk to CPU 1 with ``taskset`` when it exists
  (and both CPUs are available to this process);
* every measurement starts a fresh server: wait until the URL answers 200
  (20 s deadline), warm up with 2 s of wrk, then measure with
  ``wrk -t1 -c<connections> -d<duration>s --latency``; the server is stopped
  (its whole process group) before the next contender starts;
* the server's CPU time (user + system, from ``/proc``) over the measurement gives
  its CPU microseconds per request;
* contenders that need Redis get ``REDIS_URL`` pointing at a throwaway
  ``redis-server`` (no persistence) that the harness runs for the whole session,
  pinned with wrk, and empties before each of their measurements;
* contenders alternate within each round (baseline, candidate, baseline, ...) for
  ``--rounds`` rounds, and the table reports each contender's median requests/s,
  median 99th-percentile latency and median CPU per request.

The ratio is the candidate's median requests/s over the baseline's. On a shared
virtual machine single runs swing by 10-20 %, so use several rounds (5 by
default) and read the medians; CPU per request shows where a difference comes
from (the server saturates its core, so the two move together).

Exit status: 0 when the report was produced, targets missed or not (a miss is
printed as a ``MISSED TARGET`` line); 1 when a measurement could not be made or
had non-2xx/3xx responses or socket errors (the results are then invalid and
flagged), or a selected scenario needs ``redis-server`` and it is not installed; 2
when wrk is not installed; 130 on Ctrl-C (128 + the signal number on
SIGTERM or SIGHUP). Servers are stopped (their whole process group) in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from html import escape
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import redis

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from types import FrameType

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
APPS_DIR = BENCH_DIR / "apps"
HOST = "127.0.0.1"
SERVER_CPU = 0
WRK_CPU = 1
READY_TIMEOUT_S = 20.0
WARMUP_S = 2
STOP_TIMEOUT_S = 10.0
#: Signals held back while a server is being stopped.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
WRK_MISSING = "wrk not found: install it with 'apt-get install -y wrk'"
REDIS_MISSING = "redis-server not found: install it with 'apt-get install -y redis-server'"
SERVER_ENV = {"LOG_LEVEL": "INFO"}
#: uvicorn flags shared by every contender; logging is uvicorn's default (access log
#: on) unless a contender adds its own flags.
UVICORN_FLAGS = ("--workers=1", "--loop=uvloop", "--http=httptools")


# --- scenarios ----------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    """One server configuration that wrk loads.

    Attributes:
        key: Short identifier, unique within a scenario (used in JSON and progress).
        label: Human-readable name for the table.
        app: ``module:attribute`` of the ASGI app, the module living in ``bench/apps/``.
        path: The request path wrk sends ``GET`` to.
        env: Extra environment variables for the server (on top of ``SERVER_ENV``).
        uvicorn_args: Extra uvicorn flags (after ``UVICORN_FLAGS``).
        token_path: A route answering a bearer token as text; wrk then sends it in
            ``Authorization`` (and the server counts as ready when it answers).
        script: A wrk Lua script in ``bench/`` shaping the requests (a POST body...).
        ready_path: Polled until it answers 200 before loading (``path`` by default).
        connections: wrk connections for this contender (``--connections`` by default);
            few for slow requests, which would otherwise hit wrk's 2 s timeout.
        needs_redis: Serve it with ``REDIS_URL`` pointing at a throwaway Redis the
            harness starts (and flushes before each measurement).
    """

    key: str
    label: str
    app: str
    path: str = "/healthz"
    env: Mapping[str, str] = field(default_factory=dict)
    uvicorn_args: tuple[str, ...] = ()
    token_path: str | None = None
    script: str | None = None
    ready_path: str | None = None
    connections: int | None = None
    needs_redis: bool = False


@dataclass(frozen=True)
class Scenario:
    """A comparison of candidate contenders against a baseline contender.

    Attributes:
        name: Identifier for ``--scenario``.
        title: The scenario column of the table.
        baseline: The contender the others are compared with.
        candidates: The contenders under test.
        target_ratio: Lowest acceptable ``candidate / baseline`` requests/s, or
            ``None`` for a comparison that is reported but has no target.
        informational: More contenders compared with the baseline, without a target.
    """

    name: str
    title: str
    baseline: Contender
    candidates: tuple[Contender, ...]
    target_ratio: float | None
    informational: tuple[Contender, ...] = ()

    @property
    def contenders(self) -> tuple[Contender, ...]:
        """Return the baseline, the candidates and the others, in measuring order."""
        return (self.baseline, *self.candidates, *self.informational)

    def target_for(self, contender: Contender) -> float | None:
        """Return the target ratio ``contender`` must reach, or ``None`` when it has none."""
        return self.target_ratio if contender in self.candidates else None

    def __post_init__(self) -> None:
        keys = [contender.key for contender in self.contenders]
        if len(set(keys)) != len(keys):
            msg = f"scenario {self.name!r}: contender keys must be unique, got {keys}"
            raise ValueError(msg)


# Both served with uvicorn's defaults, so both write one access line per request:
# uvicorn's for bare FastAPI; the kit's structured line for the kit (its logging
# set-up turns uvicorn's off). The second baseline logs nothing at all.
BARE_HEALTHZ = Contender(key="bare", label="bare FastAPI", app="health_bare:app")
BARE_HEALTHZ_QUIET = Contender(
    key="bare-quiet",
    label="bare FastAPI, no access log",
    app="health_bare:app",
    uvicorn_args=("--no-access-log",),
)
KIT_HEALTHZ = Contender(key="kit", label="fastapi-kit full stack", app="health_kit:app")
KIT_HEALTHZ_NO_FREEZE = Contender(
    key="kit-no-freeze",
    label="fastapi-kit full stack, GC_FREEZE=false",
    app="health_kit:app",
    env={"GC_FREEZE": "false"},
)

DB_BARE = Contender(
    key="db-bare", label="hand-written, session in the endpoint", app="db_bare:app", path="/items/1"
)
DB_BARE_DEPENDENCY = Contender(
    key="db-dependency",
    label="hand-written yield dependency",
    app="db_bare_dependency:app",
    path="/items/1",
)
DB_KIT = Contender(key="db-kit", label="fastapi-kit DbSession", app="db_kit:app", path="/items/1")
AUTH_BARE = Contender(
    key="auth-bare",
    label="hand-written PyJWT dependency",
    app="auth_bare:app",
    path="/todos/1",
    token_path="/bench-token",
)
AUTH_KIT = Contender(
    key="auth-kit",
    label="fastapi-kit CurrentUser + require_role",
    app="auth_kit:app",
    path="/todos/1",
    token_path="/bench-token",
)
LOGIN = Contender(
    key="login",
    label="fastapi-kit login, argon2id m=19 MiB t=2 p=1",
    app="auth_kit:app",
    path="/login",
    script="login.lua",
    ready_path="/bench-token",
    connections=4,
)


def cache_contender(
    key: str, label: str, path: str, *, on_redis: bool, script: str | None = None
) -> Contender:
    """Return a contender of ``bench/apps/cache_kit.py`` (the whole kit, on memory or Redis)."""
    backend = "Redis" if on_redis else "memory"
    return Contender(
        key=f"{key}-{backend.lower()}",
        label=f"{label}, {backend}",
        app="cache_kit:app",
        path=path,
        token_path="/bench-token",
        script=script,
        needs_redis=on_redis,
    )


def cache_scenario(*, on_redis: bool) -> Scenario:
    """Return the cache scenario on memory or on Redis (SPEC 7: a hit is >= 3x uncached)."""
    backend = "Redis" if on_redis else "memory"
    return Scenario(
        name=f"cache-{backend.lower()}",
        title=f"a user's 20 todos, GET /todos ({backend})",
        baseline=cache_contender("uncached", "uncached", "/todos-uncached", on_redis=on_redis),
        candidates=(cache_contender("hit", "cache hit", "/todos", on_redis=on_redis),),
        target_ratio=3.0,
        informational=(
            cache_contender(
                "miss",
                "every request a miss",
                "/todos",
                on_redis=on_redis,
                script="unique_query.lua",
            ),
        ),
    )


def ratelimit_scenario(*, on_redis: bool) -> Scenario:
    """Return the rate-limit scenario on memory or Redis (SPEC 7: >= 85 % with Redis).

    Both contenders run ``bench/apps/ratelimit_kit.py`` in the same configuration
    (with Redis, the token revocations are in Redis for both); only the limit differs.
    """
    backend = "Redis" if on_redis else "memory"

    def contender(*, limited: bool) -> Contender:
        return Contender(
            key=f"{'limit' if limited else 'unlimited'}-{backend.lower()}",
            label=f"{'limit' if limited else 'no limit'}, {backend}",
            app="ratelimit_kit:app",
            path="/items/1",
            env={"BENCH_RATE_LIMIT": "on" if limited else "off"},
            token_path="/bench-token",
            needs_redis=on_redis,
        )

    return Scenario(
        name=f"ratelimit-{backend.lower()}",
        title=f"authenticated row read, limited per user ({backend})",
        baseline=contender(limited=False),
        candidates=(contender(limited=True),),
        target_ratio=0.85 if on_redis else None,
    )


def example_contender(key: str, label: str, path: str, script: str | None = None) -> Contender:
    """Return a contender of the example todo service (``bench/apps/todo_example.py``)."""
    return Contender(
        key=key,
        label=label,
        app="todo_example:app",
        path=path,
        env={"PYTHONPATH": str(REPO_DIR / "examples")},
        token_path="/bench-token",
        script=script,
    )


#: Every scenario, in running order. Append new ones here.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="healthz",
        title="middleware stack on /healthz",
        baseline=BARE_HEALTHZ,
        candidates=(KIT_HEALTHZ,),
        target_ratio=0.90,
    ),
    Scenario(
        name="healthz-gc",
        title="/healthz without the start-up gc.freeze()",
        baseline=BARE_HEALTHZ,
        candidates=(KIT_HEALTHZ_NO_FREEZE,),
        target_ratio=None,
    ),
    Scenario(
        name="db-read",
        title="read one row (SQLite)",
        baseline=DB_BARE,
        candidates=(DB_BARE_DEPENDENCY, DB_KIT),
        target_ratio=None,
    ),
    Scenario(
        name="auth",
        title="authenticated, role-checked GET",
        baseline=AUTH_BARE,
        candidates=(AUTH_KIT,),
        target_ratio=0.80,
    ),
    cache_scenario(on_redis=False),
    cache_scenario(on_redis=True),
    ratelimit_scenario(on_redis=False),
    ratelimit_scenario(on_redis=True),
    Scenario(
        name="example",
        title="the example app: a user's 20 todos (SQLite + memory)",
        baseline=example_contender(
            "list-miss",
            "GET /api/v1/todos, every request a miss",
            "/api/v1/todos",
            script="unique_query.lua",
        ),
        candidates=(),
        target_ratio=None,
        informational=(
            example_contender("list-hit", "GET /api/v1/todos, cache hit", "/api/v1/todos"),
            example_contender("read-one", "GET /api/v1/todos/1 (role-checked)", "/api/v1/todos/1"),
        ),
    ),
    Scenario(
        name="login",
        title="logins (a security setting, not a target)",
        baseline=LOGIN,
        candidates=(),
        target_ratio=None,
    ),
    Scenario(
        name="healthz-unlogged",
        title="/healthz vs an app that logs nothing",
        baseline=BARE_HEALTHZ_QUIET,
        candidates=(KIT_HEALTHZ,),
        target_ratio=None,
    ),
)


# --- results ------------------------------------------------------------------


class BenchError(Exception):
    """A measurement could not be made (server did not start, wrk failed...)."""


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reported.

    Attributes:
        requests_per_s: The ``Requests/sec`` line.
        latency_ms: Latency percentiles (``"50"``, ``"75"``, ``"90"``, ``"99"``) in ms.
        requests: Completed requests.
        non_2xx_3xx: Responses with a status of 400 or more (wrk's own counter).
        socket_errors: Socket errors by kind (connect, read, write, timeout).
    """

    requests_per_s: float
    latency_ms: dict[str, float]
    requests: int
    non_2xx_3xx: int
    socket_errors: dict[str, int]

    @property
    def p99_ms(self) -> float:
        """Return the 99th-percentile latency in milliseconds."""
        return self.latency_ms["99"]

    @property
    def error_count(self) -> int:
        """Return the number of failed responses and socket errors."""
        return self.non_2xx_3xx + sum(self.socket_errors.values())


@dataclass(frozen=True)
class Run:
    """One measurement of one contender in one round.

    Attributes:
        scenario: The scenario's name.
        contender: The contender's key.
        round: The round number, from 1.
        wrk: What wrk reported.
        server_log_lines: Lines the server wrote (the kit's access log, mostly).
        server_cpu_s: CPU time (user + system) the server used during the measurement.
    """

    scenario: str
    contender: str
    round: int
    wrk: WrkResult
    server_log_lines: int
    server_cpu_s: float

    @property
    def cpu_us_per_request(self) -> float:
        """Return the server's CPU microseconds per completed request."""
        return self.server_cpu_s / self.wrk.requests * 1e6 if self.wrk.requests else 0.0


@dataclass(frozen=True)
class Summary:
    """One contender's medians over the rounds, and its verdict.

    Attributes:
        scenario: The scenario.
        contender: The contender.
        runs: Its measurements.
        requests_per_s: Median requests/s.
        p99_ms: Median 99th-percentile latency, ms.
        cpu_us_per_request: Median server CPU microseconds per request.
        ratio: ``requests_per_s`` divided by the baseline's.
        errors: Whether this contender or the baseline had errors in any run.
    """

    scenario: Scenario
    contender: Contender
    runs: tuple[Run, ...]
    requests_per_s: float
    p99_ms: float
    cpu_us_per_request: float
    ratio: float
    errors: bool

    @property
    def is_baseline(self) -> bool:
        """Return whether this is the scenario's baseline."""
        return self.contender is self.scenario.baseline

    @property
    def target(self) -> float | None:
        """Return the target ratio this contender must reach, if any."""
        return self.scenario.target_for(self.contender)

    @property
    def passed(self) -> bool:
        """Return whether the target ratio is met by valid measurements."""
        return not self.errors and (self.target is None or self.ratio >= self.target)


@dataclass(frozen=True)
class BenchConfig:
    """The resolved command line.

    Attributes:
        duration: Seconds per measurement.
        connections: Open connections wrk keeps.
        rounds: How many times each contender is measured.
        scenarios: The scenarios to run.
        json_path: Where to write the raw results, if anywhere.
        chart_path: Where to write the chart (SVG), if anywhere.
        wrk: The wrk executable.
        pinned: Whether server and wrk are pinned to their CPUs with taskset.
    """

    duration: int
    connections: int
    rounds: int
    scenarios: tuple[Scenario, ...]
    json_path: Path | None
    chart_path: Path | None
    wrk: str
    pinned: bool


# --- command line -------------------------------------------------------------


def positive_int(text: str) -> int:
    """Parse a strictly positive integer for argparse.

    Args:
        text: The command-line value.

    Returns:
        The integer.

    Raises:
        argparse.ArgumentTypeError: The value is not a positive integer.
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected a positive integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv: The arguments, without the program name; ``sys.argv`` when ``None``.

    Returns:
        The parsed arguments; ``duration`` and ``rounds`` are ``None`` when not given.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=positive_int, help="seconds per measurement (8)")
    parser.add_argument(
        "--connections", type=positive_int, default=64, help="open connections wrk keeps (64)"
    )
    parser.add_argument("--rounds", type=positive_int, help="measurements per contender (5)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[scenario.name for scenario in SCENARIOS],
        help="run only this scenario (repeatable; default: all)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write raw results")
    parser.add_argument(
        "--chart",
        type=Path,
        metavar="PATH",
        help="also write the ratios as an SVG chart, and its data beside it (PATH with .json)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="PATH",
        help="measure nothing: report the results saved in PATH (by --json or --chart)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: --duration 3 --rounds 1")
    return parser.parse_args(argv)


def resolve_config(args: argparse.Namespace, wrk: str) -> BenchConfig:
    """Turn the parsed arguments into a ``BenchConfig``.

    Args:
        args: From ``parse_args``; explicit ``--duration``/``--rounds`` win over ``--quick``.
        wrk: The wrk executable.

    Returns:
        The configuration.
    """
    default_duration, default_rounds = (3, 1) if args.quick else (8, 5)
    wanted: list[str] | None = args.scenario
    return BenchConfig(
        duration=args.duration or default_duration,
        connections=args.connections,
        rounds=args.rounds or default_rounds,
        scenarios=tuple(s for s in SCENARIOS if wanted is None or s.name in wanted),
        json_path=args.json,
        chart_path=args.chart,
        wrk=wrk,
        pinned=can_pin(),
    )


# --- processes ----------------------------------------------------------------


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


def free_port() -> int:
    """Return a TCP port on ``HOST`` that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


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


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the process group led by ``proc``: SIGTERM, then SIGKILL after a grace period.

    Args:
        proc: A process started with ``start_new_session=True``.
    """
    # A second Ctrl-C must not cut the clean-up short: it is delivered afterwards.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers, or a server ignoring SIGTERM
        proc.wait()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def log_tail(path: Path, lines: int = 20) -> str:
    """Return the last ``lines`` lines of the log at ``path`` (for error messages)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


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
            msg = f"server exited with status {proc.returncode}:\n{log_tail(log_path)}"
            raise BenchError(msg)
        status, _ = http_get(url)
        if status == 200:
            return
        time.sleep(0.1)
    msg = f"{url} not ready after {READY_TIMEOUT_S:.0f} s (last status {status}):\n"
    raise BenchError(msg + log_tail(log_path))


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
def redis_server(workdir: Path, pinned: bool) -> Iterator[str]:
    """Run a throwaway Redis (no persistence) until the block exits.

    It is pinned with wrk (its CPU use is small), so the app server keeps its core.

    Args:
        workdir: Where its log goes.
        pinned: Whether to pin it to ``WRK_CPU``.

    Yields:
        Its URL, once it answers ``PING``.

    Raises:
        BenchError: ``redis-server`` is missing, exited, or did not answer in time.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError(REDIS_MISSING)
    port = free_port()
    url = f"redis://{HOST}:{port}/0"
    log_path = workdir / "redis.log"
    command = [*pin_prefix(WRK_CPU, pinned), binary, "--bind", HOST, "--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not redis_answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                msg = f"redis-server did not start:\n{log_tail(log_path)}"
                raise BenchError(msg)
            time.sleep(0.1)
        yield url
    finally:
        stop_process_group(proc)


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


# --- wrk ------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> WrkResult:
    """Parse the report of ``wrk --latency``.

    Args:
        output: wrk's standard output.

    Returns:
        The parsed numbers; missing error lines mean zero errors.

    Raises:
        BenchError: The requests/s, request count or 99% latency is missing.
    """
    rps = _RPS.search(output)
    requests = _REQUESTS.search(output)
    latency = {
        f"{float(pct):g}": float(value) * _UNIT_MS[unit]
        for pct, value, unit in _PERCENTILE.findall(output)
    }
    if rps is None or requests is None or "99" not in latency:
        msg = f"cannot parse wrk output:\n{output}"
        raise BenchError(msg)
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET_ERRORS.search(output)
    counts = [int(n) for n in sockets.groups()] if sockets else [0, 0, 0, 0]
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        latency_ms=latency,
        requests=int(requests.group(1)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(zip(("connect", "read", "write", "timeout"), counts, strict=True)),
    )


def run_wrk(
    config: BenchConfig,
    url: str,
    duration: int,
    extra: Sequence[str] = (),
    connections: int | None = None,
) -> str:
    """Load ``url`` with wrk for ``duration`` seconds and return its report.

    Args:
        config: Connections, wrk executable and pinning.
        url: The URL to load.
        duration: Seconds.
        extra: More wrk arguments (headers, a script).
        connections: Open connections; ``config.connections`` by default.

    Returns:
        wrk's standard output.

    Raises:
        BenchError: wrk failed or hung.
    """
    command = [
        *pin_prefix(WRK_CPU, config.pinned),
        config.wrk,
        "-t1",
        f"-c{connections or config.connections}",
        f"-d{duration}s",
        "--latency",
        *extra,
        url,
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"wrk did not finish: {' '.join(command)}"
        raise BenchError(msg) from exc
    if done.returncode != 0:
        msg = f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
        raise BenchError(msg)
    return done.stdout


# --- measuring ------------------------------------------------------------------


def wrk_arguments(contender: Contender, url: str) -> list[str]:
    """Return wrk's extra arguments for ``contender``: its token header, its script."""
    extra = []
    if contender.token_path is not None:
        origin = url.split("/", 3)
        _, token = http_get(f"{origin[0]}//{origin[2]}{contender.token_path}")
        extra += ["-H", f"Authorization: Bearer {token.strip()}"]
    if contender.script is not None:
        extra += ["-s", str(BENCH_DIR / contender.script)]
    return extra


def process_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def measure(
    config: BenchConfig,
    scenario: Scenario,
    contender: Contender,
    round_no: int,
    workdir: Path,
    redis_url: str | None = None,
) -> Run:
    """Start a fresh server for ``contender``, warm it up, measure it, stop it.

    Args:
        config: The run's settings.
        scenario: The scenario being measured.
        contender: The contender to serve.
        round_no: The round, from 1.
        workdir: Temporary directory for the server log.
        redis_url: The harness's Redis (emptied first when the contender uses it).

    Returns:
        The measurement.
    """
    log_path = workdir / f"{scenario.name}-{contender.key}-{round_no}.log"
    if contender.needs_redis and redis_url is not None:
        flush_redis(redis_url)
    with running_server(contender, log_path, config.pinned, redis_url) as (url, pid):
        extra = wrk_arguments(contender, url)
        run_wrk(config, url, WARMUP_S, extra, contender.connections)
        cpu_before = process_cpu_seconds(pid)
        result = parse_wrk(run_wrk(config, url, config.duration, extra, contender.connections))
        cpu_used = process_cpu_seconds(pid) - cpu_before
    run = Run(scenario.name, contender.key, round_no, result, count_lines(log_path), cpu_used)
    log_path.unlink()
    return run


def progress(run: Run, config: BenchConfig) -> None:
    """Print one line about a finished measurement to stderr."""
    wrk = run.wrk
    errors = f", {wrk.error_count} ERRORS" if wrk.error_count else ""
    print(
        f"[round {run.round}/{config.rounds}] {run.scenario}/{run.contender}: "
        f"{wrk.requests_per_s:,.0f} req/s, p99 {format_ms(wrk.p99_ms)}, "
        f"{run.cpu_us_per_request:.0f} µs CPU/request{errors}",
        file=sys.stderr,
        flush=True,
    )


def run_all(config: BenchConfig) -> list[Run]:
    """Measure every contender of every scenario, alternating them, for every round.

    Args:
        config: The run's settings.

    Returns:
        All measurements, in the order they were made.
    """
    runs: list[Run] = []
    needs_redis = any(c.needs_redis for s in config.scenarios for c in s.contenders)
    with ExitStack() as stack:
        workdir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="fastapi-kit-bench-"))
        )
        redis_url = (
            stack.enter_context(redis_server(workdir, config.pinned)) if needs_redis else None
        )
        for round_no in range(1, config.rounds + 1):
            for scenario in config.scenarios:
                for contender in scenario.contenders:
                    run = measure(config, scenario, contender, round_no, workdir, redis_url)
                    progress(run, config)
                    runs.append(run)
    return runs


def summarize(scenario: Scenario, runs: Sequence[Run]) -> list[Summary]:
    """Compute each contender's medians and its ratio against the baseline.

    Args:
        scenario: The scenario.
        runs: All measurements (other scenarios' are ignored).

    Returns:
        One summary per contender, baseline first.
    """
    by_key = {
        contender.key: tuple(
            run for run in runs if (run.scenario, run.contender) == (scenario.name, contender.key)
        )
        for contender in scenario.contenders
    }
    base_runs = by_key[scenario.baseline.key]
    base_rps = statistics.median(r.wrk.requests_per_s for r in base_runs)
    base_errors = any(r.wrk.error_count for r in base_runs)
    summaries = []
    for contender in scenario.contenders:
        own = by_key[contender.key]
        rps = statistics.median(r.wrk.requests_per_s for r in own)
        cpu = statistics.median(r.cpu_us_per_request for r in own)
        summaries.append(
            Summary(
                scenario=scenario,
                contender=contender,
                runs=own,
                requests_per_s=rps,
                p99_ms=statistics.median(r.wrk.p99_ms for r in own),
                cpu_us_per_request=cpu,
                ratio=rps / base_rps if base_rps else 0.0,
                errors=base_errors or any(r.wrk.error_count for r in own),
            )
        )
    return summaries


# --- report -----------------------------------------------------------------------


def format_ms(value: float) -> str:
    """Format a latency in milliseconds: ``7.1 ms``, ``0.85 ms``, ``1.25 s``."""
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.2f} ms" if value < 1 else f"{value:.1f} ms"


def target_cell(summary: Summary) -> str:
    """Return the table's target column for ``summary`` (empty for the baseline)."""
    if summary.is_baseline:
        return ""
    if summary.target is None:
        return "(for information)"
    target = f">= {summary.target:.2f}"
    if summary.errors:
        return f"{target} ⚠ invalid (errors)"
    return f"{target} {'✓' if summary.passed else '✗'}"


def table_row(summary: Summary, *, first: bool = True) -> str:
    """Return the markdown table row for ``summary``.

    Args:
        summary: The contender's results.
        first: Whether it is its scenario's first row: the others leave the scenario
            cell empty, so that a scenario's title is printed once.
    """
    label = summary.contender.label + (" (baseline)" if summary.is_baseline else "")
    flag = " ⚠" if any(r.wrk.error_count for r in summary.runs) else ""
    cells = [
        summary.scenario.title if first else "",
        label,
        f"{summary.requests_per_s:,.0f}{flag}",
        format_ms(summary.p99_ms),
        f"{summary.cpu_us_per_request:.0f} µs",
        f"{summary.ratio:.2f}",
        target_cell(summary),
    ]
    return "| " + " | ".join(cells) + " |"


def render_table(summaries: Sequence[Summary]) -> str:
    """Return the markdown table of all summaries."""
    lines = [
        "| scenario | contender | requests/s | p99 latency | CPU per request | ratio | target |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    lines.extend(
        table_row(summary, first=index == 0 or summaries[index - 1].scenario != summary.scenario)
        for index, summary in enumerate(summaries)
    )
    return "\n".join(lines)


def error_lines(runs: Sequence[Run]) -> list[str]:
    """Return one ``ERRORS`` line per measurement that had failed responses or socket errors."""
    return [
        f"ERRORS: {r.scenario}/{r.contender} round {r.round}: "
        f"{r.wrk.non_2xx_3xx} non-2xx/3xx responses, socket errors "
        + ", ".join(f"{kind} {n}" for kind, n in r.wrk.socket_errors.items())
        for r in runs
        if r.wrk.error_count
    ]


def verdict_lines(summaries: Sequence[Summary]) -> list[str]:
    """Return a ``MISSED TARGET`` or ``INVALID`` line per candidate that did not pass."""
    lines = []
    for s in summaries:
        if s.is_baseline or s.passed:
            continue
        what = (
            f"{s.scenario.name}: {s.contender.label} at {s.ratio:.3f}"
            f" of {s.scenario.baseline.label}"
        )
        if s.errors:
            lines.append(f"INVALID: {what} (measurements had errors, see above)")
        else:
            lines.append(f"MISSED TARGET: {what} (target >= {s.target})")
    return lines


# --- environment ----------------------------------------------------------------


def cpu_model() -> str:
    """Return the CPU model name from ``/proc/cpuinfo`` (or ``platform``'s guess)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model"):
                return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def wrk_version(wrk: str) -> str:
    """Return wrk's version string (``wrk --version`` exits non-zero, which is fine)."""
    try:
        done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    match = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


def package_version(name: str) -> str:
    """Return the installed version of distribution ``name``, or ``"?"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def environment(config: BenchConfig) -> dict[str, object]:
    """Return what the numbers depend on: hardware, versions, settings and the machine's load.

    Call it before measuring: the load average is meant to show other work on the machine.
    """
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "fastapi": package_version("fastapi"),
        "starlette": package_version("starlette"),
        "uvicorn": package_version("uvicorn"),
        "fastapi_kit": package_version("fastapi-kit"),
        "wrk": wrk_version(config.wrk),
        "connections": config.connections,
        "duration_s": config.duration,
        "warmup_s": WARMUP_S,
        "rounds": config.rounds,
        "pinning": f"server CPU {SERVER_CPU}, wrk CPU {WRK_CPU}" if config.pinned else "none",
        "load_average_before": round(os.getloadavg()[0], 2),
    }


def environment_line(env: Mapping[str, object]) -> str:
    """Return the one-line description of ``env`` printed under the table."""
    return (
        f"Environment: {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}, "
        f"fastapi {env['fastapi']}, starlette {env['starlette']}, uvicorn {env['uvicorn']}, "
        f"wrk {env['wrk']}; {env['connections']} connections, {env['duration_s']} s per run "
        f"(after {env['warmup_s']} s warm-up), {env['rounds']} round(s), median reported; "
        f"pinning: {env['pinning']}; 1-min load average before the run: "
        f"{env['load_average_before']} (other processes on these CPUs add noise)."
    )


def results_json(env: Mapping[str, object], summaries: Sequence[Summary]) -> dict[str, object]:
    """Return the raw results as JSON-ready data."""
    return {
        "environment": dict(env),
        "results": [
            {
                "scenario": s.scenario.name,
                "title": s.scenario.title,
                "contender": s.contender.key,
                "label": s.contender.label,
                "baseline": s.is_baseline,
                "target_ratio": s.target,
                "median_requests_per_s": s.requests_per_s,
                "median_p99_ms": s.p99_ms,
                "median_cpu_us_per_request": s.cpu_us_per_request,
                "ratio": s.ratio,
                "passed": None if s.is_baseline else s.passed,
                "errors": s.errors,
                "runs": [asdict(r) for r in s.runs],
            }
            for s in summaries
        ],
    }


# --- main ---------------------------------------------------------------------------


def _exit_on_signal(signum: int, _frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop servers


def report(config: BenchConfig, env: Mapping[str, object], runs: Sequence[Run]) -> int:
    """Print the table, the environment and the verdicts; write the JSON if asked.

    Args:
        config: The run's settings.
        env: From ``environment``.
        runs: All measurements.

    Returns:
        The exit status: 1 when a measurement had errors, else 0.
    """
    summaries = [s for scenario in config.scenarios for s in summarize(scenario, runs)]
    print_report(env, summaries, error_lines(runs))
    status = 1 if any(r.wrk.error_count for r in runs) else 0
    data = json.dumps(results_json(env, summaries), indent=2) + "\n"
    outputs = [(config.json_path, data), (config.chart_path, render_chart(summaries))]
    if config.chart_path is not None:  # what the chart is drawn from, to redraw it later
        outputs.append((chart_data_path(config.chart_path), data))
    return max(status, write_outputs(outputs))


def print_report(
    env: Mapping[str, object], summaries: Sequence[Summary], errors: Sequence[str]
) -> None:
    """Print the table, the environment line, then ``errors`` and the verdicts."""
    print(render_table(summaries))
    print()
    print(environment_line(env))
    problems = [*errors, *verdict_lines(summaries)]
    if problems:
        print()
        print("\n".join(problems))


def write_outputs(outputs: Sequence[tuple[Path | None, str]]) -> int:
    """Write each text to its path (``None``: not asked for); 1 when one fails, else 0."""
    status = 0
    for path, text in outputs:
        if path is None:
            continue
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"cannot write {path}: {exc}", file=sys.stderr)
            status = 1
    return status


def chart_data_path(chart_path: Path) -> Path:
    """Return where the results a chart is drawn from are kept: beside it, as JSON."""
    return chart_path.with_suffix(".json")


def load_results(
    path: Path, wanted: Sequence[str] | None = None
) -> tuple[dict[str, object], list[Summary]]:
    """Read results written by ``results_json`` back as summaries.

    Scenarios and contenders are rebuilt from the saved titles, labels and targets, so
    old results stay readable when ``SCENARIOS`` changes; the saved medians and ratios
    are used as they are (results may keep no runs to compute them from).

    Args:
        path: A file written by ``--json`` or ``--chart``.
        wanted: Only these scenarios (``--scenario``); all when ``None``.

    Returns:
        The environment and one summary per saved contender, in the saved order.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in data["results"]:
        if wanted is None or item["scenario"] in wanted:
            groups.setdefault(item["scenario"], []).append(item)
    summaries: list[Summary] = []
    for name, items in groups.items():
        contenders = {
            item["contender"]: Contender(key=item["contender"], label=item["label"], app="")
            for item in items
        }
        [baseline] = [contenders[item["contender"]] for item in items if item["baseline"]]
        targeted = [item for item in items if item["target_ratio"] is not None]
        scenario = Scenario(
            name=name,
            title=items[0]["title"],
            baseline=baseline,
            candidates=tuple(contenders[item["contender"]] for item in targeted),
            target_ratio=targeted[0]["target_ratio"] if targeted else None,
            informational=tuple(
                contenders[item["contender"]]
                for item in items
                if not item["baseline"] and item["target_ratio"] is None
            ),
        )
        summaries.extend(
            Summary(
                scenario=scenario,
                contender=contenders[item["contender"]],
                runs=tuple(Run(**{**run, "wrk": WrkResult(**run["wrk"])}) for run in item["runs"]),
                requests_per_s=item["median_requests_per_s"],
                p99_ms=item["median_p99_ms"],
                cpu_us_per_request=item["median_cpu_us_per_request"],
                ratio=item["ratio"],
                errors=item["errors"],
            )
            for item in items
        )
    return data["environment"], summaries


def report_saved(args: argparse.Namespace) -> int:
    """Print the report of saved results and write ``--chart``/``--json`` from them.

    Args:
        args: From ``parse_args``, with ``from_json`` set.

    Returns:
        The exit status: 1 when the results cannot be read, had errors (as the run
        that measured them reported), or an output cannot be written; else 0.
    """
    try:
        env, summaries = load_results(args.from_json, args.scenario)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read results from {args.from_json}: {exc!r}", file=sys.stderr)
        return 1
    print_report(env, summaries, error_lines([run for s in summaries for run in s.runs]))
    status = 1 if any(s.errors for s in summaries) else 0
    data = json.dumps(results_json(env, summaries), indent=2) + "\n"
    chart = render_chart(summaries)
    return max(status, write_outputs([(args.json, data), (args.chart, chart)]))


def render_chart(summaries: Sequence[Summary]) -> str:
    """Draw each contender's ratio to its baseline as a horizontal bar (SVG).

    The line at 1.0 is the baseline; a target, where there is one, is a tick on the
    bar's row, and the bar is green when the target is met, red when it is missed.

    Each row's label sits on its own line above the bar, so the chart stays narrow
    enough to be shown near its natural size in the docs' content column (about
    700 px): its text then reads at about the size of the page's own small print.
    The background is opaque, for the docs' dark scheme.
    """
    rows = [summary for summary in summaries if not summary.is_baseline]
    labels = [escape(f"{s.scenario.title}: {s.contender.label}") for s in rows]
    font, pad, value_room = 14, 12, 48  # value_room: for the number after the longest bar
    # Wide enough for the longest label (sans-serif averages well under 0.55 em a character).
    longest = max((len(f"{s.scenario.title}: {s.contender.label}") for s in rows), default=0)
    width = max(560, round(longest * font * 0.55) + 2 * pad)
    scale_max = max([1.0, *(s.ratio for s in rows), *(s.target or 0 for s in rows)]) * 1.05
    bar_width = width - 2 * pad - value_room
    label_height, bar_height, gap = font + 6, 18, 12
    row_height = label_height + bar_height + gap
    top = pad + font + 14  # below the title

    def x(ratio: float) -> float:
        return pad + bar_width * ratio / scale_max

    height = top + row_height * len(rows) + font + 8
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" style="background-color: #ffffff" '
            f'font-family="Helvetica, Arial, sans-serif" font-size="{font}" fill="#1f1f1f">'
        ),
        (
            f'<text x="{pad}" y="{pad + font}" font-weight="bold">Throughput relative to the '
            "baseline of each scenario (requests/s)</text>"
        ),
    ]
    for index, (summary, label) in enumerate(zip(rows, labels, strict=True)):
        y = top + index * row_height  # the label's line, then the bar
        bar_y = y + label_height
        color = "#7a8ca3" if summary.target is None else "#2e8b57" if summary.passed else "#c0392b"
        parts += [
            f'<text x="{pad}" y="{y + font}">{label}</text>',
            (
                f'<rect x="{pad}" y="{bar_y}" width="{x(summary.ratio) - pad:.1f}" '
                f'height="{bar_height}" fill="{color}"/>'
            ),
            (  # past the bar, the baseline and the target tick, so that none crosses it
                f'<text x="{x(max(summary.ratio, 1.0, summary.target or 0)) + 6:.1f}" '
                f'y="{bar_y + bar_height - 4}" font-weight="bold">{summary.ratio:.2f}</text>'
            ),
        ]
        parts.append(  # the baseline, across the bar only: the label stays clear
            f'<line x1="{x(1.0):.1f}" x2="{x(1.0):.1f}" y1="{bar_y - 3}" '
            f'y2="{bar_y + bar_height + 3}" stroke="black" stroke-dasharray="3 2"/>'
        )
        if summary.target is not None:
            parts.append(
                f'<line x1="{x(summary.target):.1f}" x2="{x(summary.target):.1f}" '
                f'y1="{bar_y - 3}" y2="{bar_y + bar_height + 3}" stroke="black" stroke-width="3"/>'
            )
    bottom = top + row_height * len(rows) - gap
    parts += [
        (
            f'<text x="{x(1.0):.1f}" y="{bottom + 4 + font}" text-anchor="middle">'
            "1.0 = baseline</text>"
        ),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print the report.

    Args:
        argv: The arguments, without the program name; ``sys.argv`` when ``None``.

    Returns:
        The exit status (see the module docstring).
    """
    args = parse_args(argv)
    if args.from_json is not None:
        return report_saved(args)
    wrk = shutil.which("wrk")
    if wrk is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    config = resolve_config(args, wrk)
    env = environment(config)
    try:
        runs = run_all(config)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return report(config, env, runs)


if __name__ == "__main__":
    sys.exit(main())
