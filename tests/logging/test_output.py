"""The line writer (one write per event-loop turn) and the UTC timestamper."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from datetime import UTC, datetime

import pytest
import structlog

from fastapi_kit.logging import configure_logging
from fastapi_kit.logging.output import LineWriter, UTCTimestamper


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_outside_a_loop_every_line_is_written_and_flushed_at_once() -> None:
    stream = CountingStream()
    writer = LineWriter(stream)
    writer.msg("one")
    writer.info("two")
    assert stream.getvalue() == "one\ntwo\n"
    assert (stream.writes, stream.flushes) == (2, 2)


async def test_lines_of_one_loop_turn_are_written_together_at_its_end() -> None:
    stream = CountingStream()
    writer = LineWriter(stream)
    writer.msg("one")
    writer.error("two")
    assert stream.getvalue() == ""  # still this turn
    await asyncio.sleep(0)  # the loop runs the callbacks scheduled so far
    assert stream.getvalue() == "one\ntwo\n"
    assert (stream.writes, stream.flushes) == (1, 1)
    writer.msg("three")
    await asyncio.sleep(0)
    assert stream.getvalue() == "one\ntwo\nthree\n"


async def test_lines_are_not_lost_when_flushed_explicitly() -> None:
    stream = CountingStream()
    writer = LineWriter(stream)
    writer.msg("one")
    writer.flush()
    writer.flush()  # nothing pending: nothing written
    assert stream.getvalue() == "one\n"
    assert stream.writes == 1


async def test_structlog_and_stdlib_lines_keep_their_order() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream, cache_loggers=False)
    structlog.get_logger().info("first")
    logging.getLogger("library").warning("second")
    structlog.get_logger().info("third")
    await asyncio.sleep(0)
    assert [
        line.split('"event": "')[1].split('"')[0] for line in stream.getvalue().splitlines()
    ] == [
        "first",
        "second",
        "third",
    ]


def test_timestamp_is_iso_utc_with_microseconds() -> None:
    event = UTCTimestamper()(None, "info", {})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", event["timestamp"])
    stamped = datetime.fromisoformat(event["timestamp"])
    assert abs((datetime.now(UTC) - stamped).total_seconds()) < 60


def test_timestamp_follows_the_clock_across_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    stamper = UTCTimestamper()
    monkeypatch.setattr("time.time_ns", lambda: 1_800_000_000_250_000_000)
    assert stamper(None, "info", {})["timestamp"] == "2027-01-15T08:00:00.250000Z"
    monkeypatch.setattr("time.time_ns", lambda: 1_800_000_001_000_002_999)
    assert stamper(None, "info", {})["timestamp"] == "2027-01-15T08:00:01.000002Z"


def test_a_record_that_cannot_be_formatted_never_raises_into_the_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO", stream=io.StringIO(), cache_loggers=False)
    logging.getLogger("library").warning("%d apples", "not a number")  # broken %-args
    assert "Logging error" in capsys.readouterr().err


async def test_a_stdlib_record_writes_out_at_once_with_what_was_pending() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream, cache_loggers=False)
    structlog.get_logger().info("pending")
    logging.getLogger("uvicorn.error").info("Application shutdown complete.")
    # No loop turn has run: a process that dies now (uvicorn re-raising SIGTERM) has
    # still written both lines.
    events = [line.split('"event": "')[1].split('"')[0] for line in stream.getvalue().splitlines()]
    assert events == ["pending", "Application shutdown complete."]
