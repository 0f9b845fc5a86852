"""``configure_logging``: structlog and stdlib logging through one set of processors."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any, Literal

import structlog

from fastapi_kit.logging.output import LineWriterFactory, UTCTimestamper
from fastapi_kit.logging.redaction import redact_sensitive

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from structlog.typing import Processor

__all__ = ("LogFormat", "configure_logging")

LogFormat = Literal["json", "console"]

# Uvicorn's loggers: errors join the root handler; its access log is replaced by the
# kit's own access line (RequestContextMiddleware), which knows the request id.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error")
_SERVER_ACCESS_LOGGER = "uvicorn.access"
# Loggers that write every statement with its parameters (password hashes, tokens)
# at DEBUG: kept at INFO whatever the level. ``DB_ECHO`` is the way to see SQL.
_STATEMENT_LOGGERS = ("aiosqlite",)


# One encoder for every event: json.dumps() would build a new one per call.
_ENCODER = json.JSONEncoder(default=repr)


def _dumps(event_dict: Any, **_kwargs: Any) -> str:
    return _ENCODER.encode(event_dict)


def configure_logging(
    format: LogFormat = "json",  # the documented keyword
    level: str | int = "INFO",
    *,
    stream: TextIO | None = None,
    cache_loggers: bool = True,
    processors: Sequence[Processor] = (),
) -> None:
    """Configure structlog and the standard library to log through the same processors.

    Every event gets a timestamp, its level, the request context bound with
    ``structlog.contextvars`` (``request_id``, ``user_id``) and is passed through
    [`redact_sensitive`][fastapi_kit.logging.redact_sensitive] before it is rendered
    as one JSON object per line (``format="json"``) or for humans
    (``format="console"``). Records from stdlib loggers (uvicorn, SQLAlchemy, your
    own) are rendered the same way. Uvicorn's access log is silenced: the kit's
    request middleware writes one richer line per request instead. ``aiosqlite``
    stays at ``INFO`` even at ``DEBUG``: it would log every statement's parameters.

    Call it once at start-up (``Kit.install`` does); calling it again replaces the
    previous configuration.

    Args:
        format: ``"json"`` for machines, ``"console"`` for humans.
        level: Minimum level, as a name (``"INFO"``) or a number.
        stream: Where lines are written; standard output by default.
        cache_loggers: Let structlog cache configured loggers (fast). Turn off in
            tests that reconfigure logging between cases.
        processors: More processors, run on every event (stdlib records too) after
            the request context is merged: ``Kit`` passes the tracing block's
            [`add_trace_ids`][fastapi_kit.tracing.add_trace_ids] when tracing is on.
    """
    if format not in ("json", "console"):
        msg = f"log format must be 'json' or 'console', not {format!r}"
        raise ValueError(msg)
    numeric_level = (
        logging.getLevelNamesMapping()[level.upper()] if isinstance(level, str) else level
    )
    output = stream if stream is not None else sys.stdout

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        *processors,
        structlog.processors.add_log_level,
        UTCTimestamper(),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    # Tracebacks become text first, so that redaction sees them too.
    finishing: list[Processor] = [
        structlog.processors.format_exc_info,
        redact_sensitive,
        renderer,
    ]

    factory = LineWriterFactory(output)
    structlog.configure(
        processors=[*shared, *finishing],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=factory,
        cache_logger_on_first_use=cache_loggers,
    )

    handler = factory.handler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finishing],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric_level)
    for name in _SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers = []
        server_logger.propagate = True
    access_logger = logging.getLogger(_SERVER_ACCESS_LOGGER)
    access_logger.handlers = []
    access_logger.propagate = False
    for name in _STATEMENT_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric_level, logging.INFO))
