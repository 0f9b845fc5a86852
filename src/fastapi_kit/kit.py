"""``Kit``: composes the building blocks onto a FastAPI app in the right order."""

from __future__ import annotations

import dataclasses
import gc
import secrets
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import structlog
from fastapi import FastAPI
from pydantic import SecretStr

from fastapi_kit._openapi import add_openapi_processor
from fastapi_kit._redis import create_redis
from fastapi_kit.auth import Auth, AuthConfig, MemoryRevocationStore, install_auth
from fastapi_kit.cache import Cache, MemoryCache
from fastapi_kit.db import Database
from fastapi_kit.errors import ProblemTypes, install_error_handlers
from fastapi_kit.health import ReadinessChecks, add_health_routes
from fastapi_kit.logging import RequestContextMiddleware, configure_logging
from fastapi_kit.mail import NullMailSender
from fastapi_kit.metrics import Metrics, MetricsMiddleware, install_metrics
from fastapi_kit.ratelimit import (
    FailurePolicy,
    Limit,
    RateLimiter,
    default_limit,
    install_rate_limiter,
    login_limit,
)
from fastapi_kit.security import (
    AllowedHostsMiddleware,
    BodySizeLimitMiddleware,
    CORSMiddleware,
    ProxyHeadersMiddleware,
    SecurityHeadersMiddleware,
    describe_body_limit,
    install_offline_docs,
)
from fastapi_kit.settings import KitSettings
from fastapi_kit.tracing import TracingMiddleware, add_trace_ids, tracing_requested

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from redis.asyncio import Redis
    from starlette.requests import Request

    from fastapi_kit.accounts import AccountMails, Accounts
    from fastapi_kit.auth import PasswordHasher, RolePolicy, TokenRevocationStore, UserLoader
    from fastapi_kit.cache import CacheBackend
    from fastapi_kit.mail import MailSender
    from fastapi_kit.tracing import Tracing

__all__ = ("Kit", "LifespanHook")

#: Something that runs around the app's lifetime: entered at start-up, exited at
#: shutdown. What it yields, if a mapping, joins the lifespan state (``request.state``).
LifespanHook: TypeAlias = Callable[[FastAPI], AbstractAsyncContextManager[Mapping[str, Any] | None]]


class Kit:
    """Compose the kit's building blocks onto a FastAPI app.

    For example:

    ```python
    kit = Kit(KitSettings())
    app = FastAPI()
    kit.install(app)
    ```

    ``install`` configures logging, installs the problem+json error handlers, adds
    ``/healthz`` and ``/readyz``, serves ``/docs`` and ``/redoc`` with local, pinned
    assets ([`install_offline_docs`][fastapi_kit.security.install_offline_docs]), and
    stacks the middleware, outermost first:

    1. [`RequestContextMiddleware`][fastapi_kit.logging.RequestContextMiddleware]: request id,
       log context, access log (so every response below carries ``X-Request-ID``);
    2. [`SecurityHeadersMiddleware`][fastapi_kit.security.SecurityHeadersMiddleware];
    3. [`ProxyHeadersMiddleware`][fastapi_kit.security.ProxyHeadersMiddleware], when
       ``trusted_proxies`` is set;
    4. [`AllowedHostsMiddleware`][fastapi_kit.security.AllowedHostsMiddleware], unless any
       host is allowed;
    5. [`CORSMiddleware`][fastapi_kit.security.CORSMiddleware], when ``cors_origins`` is set;
    6. [`BodySizeLimitMiddleware`][fastapi_kit.security.BodySizeLimitMiddleware];
    7. after [`use_rate_limit`][fastapi_kit.Kit.use_rate_limit], the rate-limit headers;
       after [`use_cache`][fastapi_kit.Kit.use_cache], the cache's response middleware;
    8. [`UnhandledErrorMiddleware`][fastapi_kit.errors.UnhandledErrorMiddleware]: 500s as
       problems, inside all of the above.

    Layers that have nothing to do with the settings given are left out, so they
    cost nothing. Once the app has started, the objects alive at that point are
    moved out of the cyclic garbage collector's reach (``gc.freeze()``; turn off with
    ``GC_FREEZE=false``), so full collections stop re-scanning them under load.

    With a database (``DATABASE_URL``, or ``database=``), ``install`` also registers
    its ``database`` readiness check and its lifespan: requests reach it through
    [`DbSession`][fastapi_kit.db.DbSession], and its pool is disposed of at shutdown.
    With ``REDIS_URL``, the blocks share one Redis client, checked as ``redis`` by
    ``/readyz``. After [`use_auth`][fastapi_kit.Kit.use_auth], requests reach the
    [`Auth`][fastapi_kit.auth.Auth] through ``CurrentUser`` and ``require_role``.

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
        #: The Redis client the blocks share, when ``REDIS_URL`` is set.
        self.redis: Redis | None = (
            create_redis(self.settings.redis_url) if self.settings.redis_url else None
        )
        #: The app's authentication, once ``use_auth`` was called.
        self.auth: Auth | None = None
        #: The app's cache, once ``use_cache`` was called.
        self.cache: Cache | None = None
        #: The app's rate limiter, once ``use_rate_limit`` was called.
        self.rate_limiter: RateLimiter | None = None
        #: The app's mail sender, once ``use_mail`` was called.
        self.mail: MailSender | None = None
        #: The app's account lifecycle, once ``use_accounts`` was called.
        self.accounts: Accounts | None = None
        #: The app's tracing, once ``use_tracing`` was called (or the ``OTEL_*``
        #: variables asked for it).
        self.tracing: Tracing | None = None
        #: The app's metrics (``METRICS_ENABLED``, the default), served at ``/metrics``.
        self.metrics: Metrics | None = Metrics() if self.settings.metrics_enabled else None
        #: ``RATE_LIMIT_DEFAULT`` as a dependency for a router or the app: one budget
        #: per user (per client address when anonymous). Needs ``use_rate_limit``.
        self.default_rate_limit: Limit = default_limit(self.settings.rate_limit_default)
        #: ``RATE_LIMIT_AUTH`` as a dependency of a login route: per client address
        #: and per account name. Needs ``use_rate_limit``.
        self.auth_rate_limit: Limit = login_limit(self.settings.rate_limit_auth)
        self._lifespan_hooks: list[LifespanHook] = []

    def use_cache(
        self,
        *,
        backend: CacheBackend | None = None,
        principal: Callable[[Request], str | None] | None = None,
        max_entries: int = 10_000,
    ) -> Cache:
        """Set up response and function caching and return the cache.

        Entries live in Redis when ``REDIS_URL`` is set (shared by every instance,
        so an invalidation on one is seen by all), in a bounded in-process LRU
        otherwise (at most ``CACHE_MAX_BYTES``); ``CACHE_TTL`` is the default lifetime.

        Args:
            backend: Another backend.
            principal: Who a request is for (default: the authenticated user's id).
            max_entries: The in-process backend's bound on entries.
        """
        if backend is None:
            if self.redis is not None:
                from fastapi_kit.cache.redis import RedisCache  # optional extra

                backend = RedisCache(self.redis, on_failure=self._redis_failure("cache"))
            else:
                backend = MemoryCache(
                    max_entries=max_entries, max_bytes=self.settings.cache_max_bytes
                )
        self.cache = Cache(backend, default_ttl=self.settings.cache_ttl, principal=principal)
        return self.cache

    def use_mail(self, sender: MailSender | None = None) -> MailSender:
        """Set up mail delivery and return the sender.

        With ``SMTP_URL`` set, an [`SMTPMailSender`][fastapi_kit.mail.SMTPMailSender]
        delivering from ``MAIL_FROM`` in the background (needs the ``mail`` extra);
        unset, a [`NullMailSender`][fastapi_kit.mail.NullMailSender]: nothing is
        sent, and start-up logs ``mail_disabled``. The sender's lifespan joins the
        app's: delivery starts with the app and drains at shutdown.

        Args:
            sender: Another sender (``MemoryMailSender`` in tests).
        """
        if sender is None:
            if self.settings.smtp_url is not None:
                from fastapi_kit.mail.smtp import SMTPMailSender  # optional extra

                sender = SMTPMailSender(
                    self.settings.smtp_url,
                    mail_from=self.settings.mail_from,
                    on_queue_change=None if self.metrics is None else self.metrics.mail_queue.set,
                )
            else:
                sender = NullMailSender()
        self.mail = sender
        self.add_lifespan(sender.lifespan)
        return sender

    def use_accounts(
        self, *, app_name: str = "fastapi-kit", mails: AccountMails | None = None
    ) -> Accounts:
        """Set up the account lifecycle (the ready-made routers' service) and return it.

        Needs ``use_auth`` first; calls ``use_mail`` unless it was. Reads
        ``VERIFY_TOKEN_TTL``, ``RESET_TOKEN_TTL``, ``REQUIRE_VERIFIED_EMAIL`` and
        ``PUBLIC_URL``. TOTP secrets are encrypted with a key derived from
        ``SECRET_KEY``; used codes are recorded where revocations are (Redis with
        ``REDIS_URL``). Needs the ``accounts`` extra.

        Args:
            app_name: Shown in the mails and as the issuer in authenticator apps.
            mails: Your own templates of the verification and reset mails.
        """
        from fastapi_kit.accounts import TOTP, AccountMails, Accounts, AccountsConfig

        if self.auth is None:
            msg = "use_accounts needs use_auth(...) first"
            raise RuntimeError(msg)
        settings = self.settings
        config = AccountsConfig(
            verify_ttl=settings.verify_token_ttl,
            reset_ttl=settings.reset_token_ttl,
            require_verified_email=settings.require_verified_email,
        )
        if settings.public_url is not None:
            config = dataclasses.replace(config, public_url=settings.public_url)
        self.accounts = Accounts(
            self.auth,
            totp=TOTP(self.auth.config.signing_key.secret, self.auth.revocation, issuer=app_name),
            mail=self.mail if self.mail is not None else self.use_mail(),
            config=config,
            mails=mails if mails is not None else AccountMails(app_name=app_name),
        )
        return self.accounts

    def use_tracing(self, tracing: Tracing | None = None) -> Tracing:
        """Trace every request with OpenTelemetry, and the database and Redis calls in it.

        ``install`` calls it by itself when OpenTelemetry's variables ask for
        traces (``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_ENDPOINT``); the SDK
        reads them all. Log lines written inside a span get its ``trace_id`` and
        ``span_id``. Needs the ``otel`` extra.

        Args:
            tracing: Another [`Tracing`][fastapi_kit.tracing.Tracing] (one with an
                in-memory exporter, in tests).
        """
        if tracing is None:
            from fastapi_kit.tracing import Tracing  # optional extra

            tracing = Tracing()
        if self.database is not None:
            tracing.instrument_sqlalchemy(self.database.engine)
        if self.redis is not None:
            tracing.instrument_redis(self.redis)
        self.tracing = tracing
        return tracing

    def use_rate_limit(self, *, on_error: FailurePolicy = "open") -> RateLimiter:
        """Set up rate limiting and return the limiter.

        Counters live in Redis when ``REDIS_URL`` is set (every instance shares one
        budget), in process memory otherwise. Address-keyed limits count an IPv6
        client by its ``RATE_LIMIT_IPV6_PREFIX`` network. Routes use ``limit(...)``,
        ``default_limit()`` and ``login_limit()`` (which read ``RATE_LIMIT_DEFAULT``
        and ``RATE_LIMIT_AUTH`` from the limiter per request), or
        ``kit.default_rate_limit`` and ``kit.auth_rate_limit``.

        Args:
            on_error: What limits do when Redis cannot be reached, unless they say
                otherwise: ``"open"`` (let requests through, logged and counted) or
                ``"closed"`` (503).
        """
        settings = self.settings
        options: dict[str, Any] = {
            "on_error": on_error,
            "ipv6_prefix": settings.rate_limit_ipv6_prefix,
            "default_limits": settings.rate_limit_default,
            "auth_limits": settings.rate_limit_auth,
        }
        if self.redis is not None:
            self.rate_limiter = RateLimiter.from_redis(
                self.redis, on_failure=self._redis_failure("rate_limit"), **options
            )
        else:
            self.rate_limiter = RateLimiter(**options)
        return self.rate_limiter

    def use_auth(
        self,
        *,
        user_loader: UserLoader | None = None,
        claims_only: bool = False,
        role_policy: RolePolicy | None = None,
        revocation: TokenRevocationStore | None = None,
        hasher: PasswordHasher | None = None,
    ) -> Auth:
        """Set up authentication from the settings and return it.

        Tokens are signed with ``SECRET_KEY`` (HS256); unset, a random key is made
        for this process, with a warning when the app starts (``secret_key_missing``,
        logged once logging is configured): tokens then die with the process and do
        not work across instances. Revocations live in Redis when ``REDIS_URL`` is
        set (shared by every instance), in memory otherwise.

        Args:
            user_loader: ``async (subject) -> user | None``, to load the user of a token.
            claims_only: Trust the token's roles instead of loading the user.
            role_policy: Role hierarchy and permissions.
            revocation: Another revocation store.
            hasher: Another password hasher (argon2id at OWASP's parameters, in
                ``PASSWORD_HASH_THREADS`` threads, by default).
        """
        settings = self.settings
        secret = settings.secret_key
        if secret is None:
            secret = SecretStr(secrets.token_urlsafe(48))
            # Said when the app starts, not now: by then `install` has configured
            # logging, so this warning is in the format log collectors expect.
            self.add_lifespan(_warn_random_secret_key)
        config = AuthConfig.from_settings(
            settings.model_copy(update={"secret_key": secret}), claims_only=claims_only
        )
        if revocation is None:
            if self.redis is not None:
                from fastapi_kit.auth.revocation.redis import (  # optional extra
                    RedisRevocationStore,
                )

                revocation = RedisRevocationStore(
                    self.redis, on_failure=self._redis_failure("revocation")
                )
            else:
                revocation = MemoryRevocationStore()
        self.auth = Auth(
            config,
            user_loader=user_loader,
            revocation=revocation,
            hasher=hasher,
            role_policy=role_policy,
        )
        return self.auth

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
        if self.tracing is None and tracing_requested():
            self.use_tracing()
        if logging:
            configure_logging(
                settings.log_format,
                settings.log_level,
                processors=() if self.tracing is None else (add_trace_ids,),
            )
        problems = ProblemTypes(settings.problem_type_base)
        install_error_handlers(app, problem_types=problems)  # adds the innermost middleware
        if self.cache is not None:
            self.cache.install(app)  # just outside it: it sees every final response
            self.add_lifespan(self.cache.lifespan)
        if self.rate_limiter is not None:
            install_rate_limiter(app, self.rate_limiter)  # outside the cache: hits count too
            self.add_lifespan(self.rate_limiter.lifespan)
        if self.database is not None:
            self.readiness.add("database", self.database.ping)
            self.add_lifespan(self.database.lifespan)
        if self.redis is not None:
            self.readiness.add("redis", self._ping_redis)
            self.add_lifespan(self._redis_lifespan)
        if self.auth is not None:
            self.add_lifespan(self.auth.lifespan)
            install_auth(app, self.auth)
        if self.accounts is not None:
            self.add_lifespan(self.accounts.lifespan)
        add_health_routes(app, self.readiness, problem_types=problems)
        if self.metrics is not None:
            install_metrics(app, self.metrics, token=settings.metrics_token, problem_types=problems)
            if self.database is not None:
                self.metrics.watch_pool(self.database.engine)
            self.add_lifespan(self.metrics.lifespan)
        install_offline_docs(app)
        app.add_middleware(
            BodySizeLimitMiddleware, max_body_size=settings.max_body_size, problem_types=problems
        )
        add_openapi_processor(app, "body_limit", describe_body_limit)
        if settings.cors_origins:
            app.add_middleware(
                CORSMiddleware, allow_origins=settings.cors_origins, problem_types=problems
            )
        if settings.allowed_hosts != ["*"]:
            app.add_middleware(
                AllowedHostsMiddleware, allowed_hosts=settings.allowed_hosts, problem_types=problems
            )
        if settings.trusted_proxies:
            app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=settings.trusted_proxies)
        app.add_middleware(SecurityHeadersMiddleware)
        app.add_middleware(RequestContextMiddleware, access_log_exclude=settings.access_log_exclude)
        if self.metrics is not None:  # outside the rest: it counts every answer, times all
            app.add_middleware(
                MetricsMiddleware, metrics=self.metrics, exclude_paths=settings.access_log_exclude
            )
        if self.tracing is not None:  # around everything: the access line is in the span
            app.add_middleware(TracingMiddleware, tracing=self.tracing)
            # Entered first, left last: spans of the other blocks' shutdown are flushed.
            self._lifespan_hooks.insert(0, self.tracing.lifespan)
        self._wrap_lifespan(app)
        return app

    def _redis_failure(self, block: str) -> Callable[[BaseException], None] | None:
        """The hook that counts ``block``'s Redis failures, when metrics are on."""
        return None if self.metrics is None else self.metrics.redis_failure(block)

    async def _ping_redis(self) -> None:
        assert self.redis is not None  # noqa: S101  # registered only with a client
        await self.redis.ping()

    @asynccontextmanager
    async def _redis_lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        assert self.redis is not None  # noqa: S101  # registered only with a client
        try:
            yield
        finally:
            await self.redis.aclose()

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


@asynccontextmanager
async def _warn_random_secret_key(_app: FastAPI) -> AsyncIterator[None]:
    structlog.get_logger("fastapi_kit.auth").warning(
        "secret_key_missing",
        detail="SECRET_KEY is not set: signing tokens with a random key for this "
        "process only, so tokens die at restart and fail on other instances. "
        "Set SECRET_KEY to at least 32 random bytes.",
    )
    yield


def _freeze_startup_heap() -> None:
    # Everything alive once the app has started (modules, routes, pydantic schemas,
    # pools) lives as long as the process. Moving it to the permanent generation
    # spares every later full collection from walking it: less CPU per request and
    # no multi-millisecond pauses under load. Startup garbage is collected first.
    gc.collect()
    gc.freeze()
