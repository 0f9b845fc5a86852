"""``Kit``: composes the building blocks onto a FastAPI app in the right order."""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

from fastapi import FastAPI

from fastapi_kit.db import Database
from fastapi_kit.errors import install_error_handlers
from fastapi_kit.health import ReadinessChecks, add_health_routes
from fastapi_kit.logging import RequestContextMiddleware, configure_logging
from fastapi_kit.security import (
    AllowedHostsMiddleware,
    BodySizeLimitMiddleware,
    CORSMiddleware,
    ProxyHeadersMiddleware,
    SecurityHeadersMiddleware,
)
from fastapi_kit.settings import KitSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ("Kit", "LifespanHook")

#: Something that runs around the app's lifetime: entered at start-up, exited at
#: shutdown. What it yields, if a mapping, joins the lifespan state (``request.state``).
LifespanHook: TypeAlias = Callable[[FastAPI], AbstractAsyncContextManager[Mapping[str, Any] | None]]


class Kit:
    """Compose the kit's building blocks onto a FastAPI app.

    ::

        kit = Kit(KitSettings())
        app = FastAPI()
        kit.install(app)

    ``install`` configures logging, installs the problem+json error handlers, adds
    ``/healthz`` and ``/readyz``, and stacks the middleware, outermost first:

    1. [`RequestContextMiddleware`][fastapi_kit.logging.RequestContextMiddleware]: request id,
       log context, access log (so every response below carries ``X-Request-ID``);
    2. [`SecurityHeadersMiddleware`][fastapi_kit.security.SecurityHeadersMiddleware];
    3. [`ProxyHeadersMiddleware`][fastapi_kit.security.ProxyHeadersMiddleware], when
       ``trusted_proxies`` is set;
    4. [`AllowedHostsMiddleware`][fastapi_kit.security.AllowedHostsMiddleware], unless any
       host is allowed;
    5. [`CORSMiddleware`][fastapi_kit.security.CORSMiddleware], when ``cors_origins`` is set;
    6. [`BodySizeLimitMiddleware`][fastapi_kit.security.BodySizeLimitMiddleware];
    7. [`UnhandledErrorMiddleware`][fastapi_kit.errors.UnhandledErrorMiddleware]: 500s as
       problems, inside all of the above.

    Layers that have nothing to do with the settings given are left out, so they
    cost nothing. Once the app has started, the objects alive at that point are
    moved out of the cyclic garbage collector's reach (``gc.freeze()``; turn off with
    ``GC_FREEZE=false``), so full collections stop re-scanning them under load.

    With a database (``DATABASE_URL``, or ``database=``), ``install`` also registers
    its ``database`` readiness check and its lifespan: requests reach it through
    [`DbSession`][fastapi_kit.db.DbSession], and its pool is disposed of at shutdown.

    Args:
        settings: The configuration; read from the environment when omitted.
        readiness: The readiness probes behind ``/readyz``; a new registry when omitted.
        database: The database; by default one is made from ``DATABASE_URL`` when set.
    """

    def __init__(
        self,
        settings: KitSettings | None = None,
        *,
        readiness: ReadinessChecks | None = None,
        database: Database | None = None,
    ) -> None:
        self.settings = settings if settings is not None else KitSettings()
        self.readiness = (
            readiness
            if readiness is not None
            else ReadinessChecks(default_timeout=self.settings.readiness_timeout)
        )
        if database is None and self.settings.database_url is not None:
            database = Database.from_settings(self.settings)
        #: The app's database, if it has one.
        self.database = database
        self._lifespan_hooks: list[LifespanHook] = []

    def add_lifespan(self, hook: LifespanHook) -> None:
        """Run ``hook(app)`` around the app's lifetime (start-up and shutdown).

        Hooks are entered in the order they were added and exited in reverse, all
        before the app's own lifespan starts and after it ends. Blocks use this to
        open and close their connections; a mapping a hook yields joins the lifespan
        state, which requests see as ``request.state``.
        """
        self._lifespan_hooks.append(hook)

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        """The kit's part of the application lifespan (entered by ``install``).

        Yields:
            The lifespan state the hooks contributed.
        """
        state: dict[str, Any] = {}
        async with AsyncExitStack() as stack:
            for hook in self._lifespan_hooks:
                contributed = await stack.enter_async_context(hook(app))
                if contributed:
                    state.update(contributed)
            yield state

    def install(self, app: FastAPI, *, logging: bool = True) -> FastAPI:
        """Install every configured block on ``app`` and return it.

        Args:
            app: The application; call this once, before it serves.
            logging: Configure structlog and stdlib logging from the settings. Turn
                off when your application configures logging itself.
        """
        settings = self.settings
        if logging:
            configure_logging(settings.log_format, settings.log_level)
        install_error_handlers(app)  # adds the innermost middleware
        if self.database is not None:
            self.readiness.add("database", self.database.ping)
            self.add_lifespan(self.database.lifespan)
        add_health_routes(app, self.readiness)
        app.add_middleware(BodySizeLimitMiddleware, max_body_size=settings.max_body_size)
        if settings.cors_origins:
            app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins)
        if settings.allowed_hosts != ["*"]:
            app.add_middleware(AllowedHostsMiddleware, allowed_hosts=settings.allowed_hosts)
        if settings.trusted_proxies:
            app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=settings.trusted_proxies)
        app.add_middleware(SecurityHeadersMiddleware)
        app.add_middleware(RequestContextMiddleware)
        self._wrap_lifespan(app)
        return app

    def _wrap_lifespan(self, app: FastAPI) -> None:
        app_lifespan = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(asgi_app: Any) -> AsyncIterator[Any]:
            async with self.lifespan(app) as kit_state, app_lifespan(asgi_app) as app_state:
                if self.settings.gc_freeze:
                    _freeze_startup_heap()
                state = {**kit_state, **(app_state or {})}
                # No state at all stays None: servers without lifespan state still work.
                yield state or None

        app.router.lifespan_context = lifespan


def _freeze_startup_heap() -> None:
    # Everything alive once the app has started (modules, routes, pydantic schemas,
    # pools) lives as long as the process. Moving it to the permanent generation
    # spares every later full collection from walking it: less CPU per request and
    # no multi-millisecond pauses under load. Startup garbage is collected first.
    gc.collect()
    gc.freeze()
