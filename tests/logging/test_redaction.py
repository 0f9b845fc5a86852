"""Passwords, tokens, secrets, Authorization and Cookie values never reach a log."""

from __future__ import annotations

import logging

import pytest
import structlog
from fastapi import FastAPI, Request

from fastapi_kit.logging import REDACTED, RequestContextMiddleware, redact_sensitive
from helpers import LogCapture, client_for

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def test_sensitive_keys_are_redacted_at_any_depth() -> None:
    event = redact_sensitive(
        None,
        "info",
        {
            "event": "login",
            "password": "hunter2",
            "new_password": "hunter3",
            "access_token": JWT,
            "Authorization": "Bearer abc.def",
            "cookie": "session=xyz",
            "client_secret": "s3cr3t",
            "api_key": "k-123",
            "request": {"headers": {"Authorization": "Basic dXNlcjpwYXNz", "Accept": "*/*"}},
            "raw_headers": [(b"authorization", b"Bearer zzz"), (b"accept", b"*/*")],
            "form": [{"password": "in-a-list"}],
            "email": "a@example.com",
            "count": 3,
        },
    )
    assert event["password"] == REDACTED
    assert event["new_password"] == REDACTED
    assert event["access_token"] == REDACTED
    assert event["Authorization"] == REDACTED
    assert event["cookie"] == REDACTED
    assert event["client_secret"] == REDACTED
    assert event["api_key"] == REDACTED
    assert event["request"] == {"headers": {"Authorization": REDACTED, "Accept": "*/*"}}
    assert event["raw_headers"] == [["authorization", REDACTED], ["accept", "*/*"]]
    assert event["form"] == [{"password": REDACTED}]
    assert event["email"] == "a@example.com"
    assert event["count"] == 3


@pytest.mark.parametrize(
    "message",
    [
        f"decoded {JWT} for user 7",
        "header was Bearer abc123.def-456",
        "authorization: basic dXNlcjpwYXNzd29yZA==",
        "GET /callback?code=1&access_token=abc123xyz&state=ok",
        "connect postgresql://app@db/app?password=abc123 failed",
        "cannot reach redis://:abc123@cache:6379/0",
        "cannot reach postgresql+asyncpg://kit:abc123@db:5432/kit",
    ],
)
def test_credentials_inside_strings_are_masked(message: str) -> None:
    event = redact_sensitive(None, "info", {"event": message})
    assert REDACTED in event["event"]
    assert "abc123" not in event["event"]
    assert "SflKxw" not in event["event"]
    assert "dXNlcjpw" not in event["event"]


def test_bytes_and_objects_are_checked_as_they_will_be_rendered() -> None:
    class Connection:
        def __repr__(self) -> str:
            return "<Connection postgresql://kit:hunter2@db/kit>"

    event = redact_sensitive(
        None, "info", {"event": "x", "raw": b"Bearer abcdefghijkl", "conn": Connection()}
    )
    assert event["raw"] == REDACTED
    assert event["conn"] == f"<Connection postgresql://kit:{REDACTED}@db/kit>"


def test_ordinary_text_is_untouched() -> None:
    event = {
        "event": "basically a bearer of good news",
        "path": "/api/v1/todos",
        "query": "limit=20&offset=40&done=true",
    }
    assert redact_sensitive(None, "info", dict(event)) == event


def test_structlog_and_stdlib_events_are_redacted(logs: LogCapture) -> None:
    structlog.get_logger("app").info("login", email="a@example.com", password="hunter2")
    logging.getLogger("sqlalchemy.engine").warning("token %s refused", JWT)
    try:
        msg = f"cannot decode {JWT}"
        raise ValueError(msg)
    except ValueError:
        structlog.get_logger("app").exception("decode_failed")
    text = logs.text
    assert "hunter2" not in text
    assert "SflKxw" not in text
    assert "a@example.com" in text
    assert logs.named("decode_failed")[0]["exception"].count(REDACTED) == 1


async def test_request_credentials_never_reach_the_log(logs: LogCapture) -> None:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware)

    @app.post("/login")
    async def login(request: Request) -> dict[str, str]:
        form = await request.form()
        structlog.get_logger("app").info(
            "login_attempt", headers=dict(request.headers), form=dict(form)
        )
        return {}

    async with client_for(app) as client:
        await client.post(
            "/login?access_token=leaky",
            data={"username": "a@example.com", "password": "hunter2"},
            headers={"Authorization": f"Bearer {JWT}", "Cookie": "session=s3ssion"},
        )
    text = logs.text
    for secret in ("hunter2", "SflKxw", "s3ssion", "leaky"):
        assert secret not in text
    assert logs.named("login_attempt")[0]["form"]["username"] == "a@example.com"


def test_values_nested_too_deep_to_check_are_dropped() -> None:
    deep: dict[str, object] = {"password": "hunter2"}
    for _ in range(20):
        deep = {"level": deep}
    event = redact_sensitive(None, "info", {"event": "deep", "payload": deep, "token": "t"})
    assert event["token"] == REDACTED
    assert "hunter2" not in repr(event)
    assert "[TOO DEEP]" in repr(event)


def test_numbers_nested_in_containers_are_kept() -> None:
    event = redact_sensitive(None, "info", {"event": "x", "sizes": [1, 2.5, None]})
    assert event["sizes"] == [1, 2.5, None]


def test_many_distinct_keys_do_not_grow_memory_or_change_verdicts() -> None:
    for number in range(5000):
        event = redact_sensitive(None, "info", {f"field_{number}": "v", "password": "p"})
        assert event == {f"field_{number}": "v", "password": REDACTED}
