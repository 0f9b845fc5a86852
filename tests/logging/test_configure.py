"""configure_logging: formats, levels and the stdlib/uvicorn bridge."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from fastapi_kit.logging import configure_logging


def test_json_lines_have_timestamp_level_and_logger_for_stdlib() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream, cache_loggers=False)
    structlog.get_logger().info("structlog_event", answer=42)
    logging.getLogger("uvicorn.error").info("Started server process")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["event"] == "structlog_event"
    assert first["answer"] == 42
    assert first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    assert second == {
        "event": "Started server process",
        "level": "info",
        "logger": "uvicorn.error",
        "timestamp": second["timestamp"],
    }


def test_console_format_is_for_humans() -> None:
    stream = io.StringIO()
    configure_logging("console", "DEBUG", stream=stream, cache_loggers=False)
    structlog.get_logger().info("hello_humans", user="ada", password="hunter2")
    line = stream.getvalue()
    assert "hello_humans" in line
    assert "user=ada" in line
    assert "hunter2" not in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_level_filters_both_worlds() -> None:
    stream = io.StringIO()
    configure_logging("json", "WARNING", stream=stream, cache_loggers=False)
    structlog.get_logger().info("quiet")
    logging.getLogger("x").info("quiet too")
    structlog.get_logger().warning("loud")
    logging.getLogger("x").error("loud too")
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["loud", "loud too"]


def test_numeric_levels_are_accepted() -> None:
    stream = io.StringIO()
    configure_logging("json", logging.ERROR, stream=stream, cache_loggers=False)
    structlog.get_logger().warning("dropped")
    assert stream.getvalue() == ""


def test_uvicorn_access_log_is_replaced_by_the_kits() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream, cache_loggers=False)
    access = logging.getLogger("uvicorn.access")
    access.info('127.0.0.1:1 - "GET / HTTP/1.1" 200')
    assert stream.getvalue() == ""
    assert not access.hasHandlers()  # uvicorn skips formatting its line entirely


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml")  # type: ignore[arg-type]
