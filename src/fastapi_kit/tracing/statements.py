"""Database statements as client spans: the kit's own SQLAlchemy listener.

OpenTelemetry's SQLAlchemy instrumentation does its work on every statement and pool
checkout whether the request is sampled or not: measured on the example app's
``GET /api/v1/todos/{id}``, about 110 µs a request with sampling off. Even an idle
``before_cursor_execute`` listener costs SQLAlchemy some 15 µs a statement (engine
events switch its execution onto a slower path). This module listens to the
dialect's ``do_execute`` events instead, which cost nothing measurable: outside a
recording span the listener hands the statement back to SQLAlchemy; inside one it
runs the statement itself, in one span with the database semantic conventions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event

if TYPE_CHECKING:
    from collections.abc import Callable

    from opentelemetry.trace import Tracer
    from sqlalchemy.engine import Engine

__all__ = ("trace_statements",)

#: ``db.system.name`` of SQLAlchemy's dialects, where the conventions name it otherwise.
_SYSTEMS: Final = {
    "postgresql": "postgresql",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mssql": "microsoft.sql_server",
}


def trace_statements(engine: Engine, tracer: Tracer) -> None:
    """Make every statement ``engine`` runs inside a recording span a child span of it.

    The span is named by the statement's operation and the database (``SELECT
    todo``); its attributes are ``db.system.name``, ``db.namespace``,
    ``db.operation.name``, ``db.query.text`` (with placeholders: never parameters),
    ``server.address`` and ``server.port``. A failing statement records its exception.
    The span covers the driver's ``execute`` (what the database took), not the
    compilation before it or the fetching of rows after it.

    The listeners sit on the engine's dialect, which the engines made from it with
    ``execution_options()`` share: they are traced too. Trace an engine once.
    """
    url = engine.url
    backend = url.get_backend_name()
    static: dict[str, Any] = {"db.system.name": _SYSTEMS.get(backend, backend)}
    namespace = url.database if backend != "sqlite" else None
    if namespace:
        static["db.namespace"] = namespace
    if url.host:
        static["server.address"] = url.host
        if url.port:
            static["server.port"] = url.port
    dialect = engine.dialect

    def traced(name: str, cursor: object, statement: str, *rest: object) -> bool:
        """Run the statement in a span, and say so; outside a recording span, don't.

        ``name`` is the event, and the dialect's method that runs the statement.
        """
        if not trace.get_current_span().is_recording():
            return False  # an unsampled request, or none: SQLAlchemy runs it
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            f"{operation} {namespace}" if namespace else operation,
            kind=SpanKind.CLIENT,
            attributes={**static, "db.operation.name": operation, "db.query.text": statement},
        )
        try:
            # The listeners after this one still get their turn: one of them may run
            # the statement itself (returning True), as SQLAlchemy would have let it.
            if not any(listener(cursor, statement, *rest) for listener in later(name)):
                getattr(dialect, name)(cursor, statement, *rest)
        except BaseException as exc:
            span.record_exception(exc)
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(Status(StatusCode.ERROR))
            raise
        finally:
            span.end()
        return True  # executed: SQLAlchemy must not run it again

    def execute(cursor: object, statement: str, parameters: object, context: object) -> bool:
        return traced("do_execute", cursor, statement, parameters, context)

    def executemany(cursor: object, statement: str, parameters: object, context: object) -> bool:
        return traced("do_executemany", cursor, statement, parameters, context)

    def execute_no_params(cursor: object, statement: str, context: object) -> bool:
        return traced("do_execute_no_params", cursor, statement, context)

    listeners: dict[str, Callable[..., bool]] = {
        "do_execute": execute,
        "do_executemany": executemany,
        "do_execute_no_params": execute_no_params,
    }

    def later(name: str) -> list[Callable[..., object]]:
        """The listeners of ``name`` registered after this module's."""
        registered = list(getattr(dialect.dispatch, name))
        return registered[registered.index(listeners[name]) + 1 :]

    for name, listener in listeners.items():
        event.listen(engine, name, listener)
