"""The scenarios: what the benchmark compares, and the place to edit it.

A *scenario* compares one or more *candidate* contenders with a *baseline*
contender and states the lowest acceptable throughput ratio candidate/baseline.
A *contender* is an ASGI app in ``bench/apps/`` (``module:attribute``) plus the
path wrk requests (and, where it needs them, a wrk Lua script in ``bench/``, a
token, environment variables, uvicorn flags). To add a scenario, add its app
module(s) to ``bench/apps/`` and append a ``Scenario`` to ``SCENARIOS`` below;
nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
APPS_DIR = BENCH_DIR / "apps"


@dataclass(frozen=True)
class Contender:
    """One server configuration that wrk loads.

    Attributes:
        key: Short identifier, unique within a scenario (used in JSON and progress).
        label: Human-readable name for the table.
        app: ``module:attribute`` of the ASGI app, the module living in ``bench/apps/``.
        path: The request path wrk sends ``GET`` to.
        env: Extra environment variables for the server (on top of
            ``processes.SERVER_ENV``).
        uvicorn_args: Extra uvicorn flags (after ``processes.UVICORN_FLAGS``).
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
                "/todos-miss",
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


def example_contender(
    key: str,
    label: str,
    path: str,
    script: str | None = None,
    env: Mapping[str, str] | None = None,
    app: str = "todo_example:app",
) -> Contender:
    """Return a contender of the example todo service (``bench/apps/todo_example.py``)."""
    return Contender(
        key=key,
        label=label,
        app=app,
        path=path,
        env={"PYTHONPATH": str(REPO_DIR / "examples"), **(env or {})},
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
        name="monitoring",
        title="GET /api/v1/todos/1 of the example app, metrics and tracing on and off",
        baseline=example_contender(
            "read-one-bare",
            "metrics off (METRICS_ENABLED=false)",
            "/api/v1/todos/1",
            env={"METRICS_ENABLED": "false"},
        ),
        candidates=(
            example_contender("read-one-metrics", "metrics on", "/api/v1/todos/1"),
            example_contender(
                "read-one-sampled",
                "metrics, and tracing sampled at 10 % (OTLP/HTTP export)",
                "/api/v1/todos/1",
                env={
                    "BENCH_TRACING": "otlp",
                    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                    "OTEL_TRACES_SAMPLER_ARG": "0.1",
                },
            ),
        ),
        target_ratio=0.90,
        informational=(
            example_contender(
                "read-one-traced",
                "metrics, and every request traced (OTLP/HTTP export)",
                "/api/v1/todos/1",
                env={"BENCH_TRACING": "otlp"},
            ),
            example_contender(
                "read-one-plain-otel",
                "metrics, and OpenTelemetry's FastAPI + SQLAlchemy instrumentations "
                "instead, sampled at 10 % (OTLP/HTTP export)",
                "/api/v1/todos/1",
                env={
                    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                    "OTEL_TRACES_SAMPLER_ARG": "0.1",
                },
                app="todo_plain_otel:app",
            ),
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
