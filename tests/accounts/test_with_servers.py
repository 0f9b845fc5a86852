"""The account flows against real servers: SMTP, and two instances on PostgreSQL + Redis."""

from __future__ import annotations

import ssl
import statistics
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pyotp
import pytest

from accounts.app import NEW_PASSWORD, bearer, log_in, make_app, register, token_of
from fastapi_kit.mail import MemoryMailSender
from fastapi_kit.mail.smtp import SMTPMailSender
from fastapi_kit.testing import app_client
from helpers import LogCapture
from services.smtp import Inbox, free_port, self_signed, server_context, smtp_server, until


def mailed_token(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    [line] = [line for line in body.get_content().splitlines() if line.startswith("Token: ")]
    return line.removeprefix("Token: ")


@pytest.mark.parametrize("tls", ["plain", "starttls"])
async def test_every_mailed_flow_over_a_real_smtp_server(tmp_path: Path, tls: str) -> None:
    inbox = Inbox()
    options: dict[str, Any] = {}
    client_tls = None
    if tls == "starttls":  # with a certificate made for the test
        cert, key = self_signed(tmp_path)
        options = {"tls_context": server_context(cert, key), "require_starttls": True}
        client_tls = ssl.create_default_context(cafile=cert)
    with smtp_server(inbox, **options) as port:
        url = f"smtp://127.0.0.1:{port}" + ("?starttls=required" if client_tls else "")
        sender = SMTPMailSender(url, mail_from="team@example.com", tls_context=client_tls)
        built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", mail=sender)
        async with app_client(built.app) as client:
            await register(client, "ada@example.com")
            await until(lambda: len(inbox.received) == 1)
            verify_token = mailed_token(inbox.received[0])
            verified = await client.post("/auth/verify", json={"token": verify_token})
            assert verified.json()["is_verified"] is True
            await client.post("/auth/forgot-password", json={"email": "ada@example.com"})
            await until(lambda: len(inbox.received) == 2)
            reset = inbox.received[1]
            assert reset["Subject"] == "Reset your password"
            assert reset.get_body(("html",)) is not None
            body = {"token": mailed_token(reset), "password": NEW_PASSWORD}
            assert (await client.post("/auth/reset-password", json=body)).status_code == 204
            assert (await log_in(client, "ada@example.com", NEW_PASSWORD)).status_code == 200


async def test_a_mail_server_down_or_slow_leaves_the_answers_alone(tmp_path: Path) -> None:
    inbox = Inbox()
    inbox.release.clear()  # deliveries hang until released
    with smtp_server(inbox) as port:
        built = make_app(
            f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", smtp_url=f"smtp://127.0.0.1:{port}"
        )
        async with app_client(built.app) as client:
            await register(client, "bo@example.com")  # its mail is held
            answers = [
                await client.post("/auth/forgot-password", json={"email": "bo@example.com"})
                for _ in range(3)
            ]
            assert [r.status_code for r in answers] == [202, 202, 202]
            assert inbox.received == []
            inbox.release.set()
            await until(lambda: len(inbox.received) == 4)
    down = SMTPMailSender(f"smtp://127.0.0.1:{free_port()}", backoff=0.01)  # nobody there
    built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", mail=down)
    logs = LogCapture()
    async with app_client(built.app) as client:
        await register(client, "cy@example.com")
        sent = await client.post("/auth/forgot-password", json={"email": "cy@example.com"})
        assert sent.status_code == 202
        await until(lambda: len(logs.named("mail_send_failed")) == 2)
    assert {e["domain"] for e in logs.named("mail_send_failed")} == {"example.com"}
    assert "cy@example.com" not in logs.text
    assert "Token" not in logs.text


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_instances_share_resets_and_used_totp_codes(
    postgres_url: str, redis_url: str
) -> None:
    one = make_app(postgres_url, redis_url=redis_url)
    two = make_app(postgres_url, redis_url=redis_url)
    async with app_client(one.app) as first, app_client(two.app) as second:
        await register(first, "dee@example.com")
        tokens = (await log_in(second, "dee@example.com")).json()
        await first.post("/auth/forgot-password", json={"email": "dee@example.com"})
        reset_token = mailed_text_token(one.mail)
        body = {"token": reset_token, "password": NEW_PASSWORD}
        assert (await first.post("/auth/reset-password", json=body)).status_code == 204
        # The other instance: the old tokens are refused, the used link too.
        assert (await second.get("/users/me", headers=bearer(tokens))).status_code == 401
        refresh = {"refresh_token": tokens["refresh_token"]}
        assert (await second.post("/auth/refresh", json=refresh)).status_code == 401
        assert (await second.post("/auth/reset-password", json=body)).status_code == 400
        headers = bearer((await log_in(second, "dee@example.com", NEW_PASSWORD)).json())
        secret = (await first.post("/users/me/mfa/totp", headers=headers)).json()["secret"]
        totp = pyotp.TOTP(secret)
        confirmed = await second.post(
            "/users/me/mfa/totp/confirm", json={"code": totp.now()}, headers=headers
        )
        assert confirmed.status_code == 200, confirmed.text
        code = totp.at(time.time() + 30)
        assert (await log_in(first, "dee@example.com", NEW_PASSWORD, otp=code)).status_code == 200
        replayed = await log_in(second, "dee@example.com", NEW_PASSWORD, otp=code)
        assert (replayed.status_code, replayed.json()["code"]) == (401, "invalid_credentials")


def mailed_text_token(sender: object) -> str:

    assert isinstance(sender, MemoryMailSender)
    return token_of(sender.sent[-1])


async def test_forgot_password_takes_as_long_for_unknown_addresses(tmp_path: Path) -> None:
    # A generous ratio over many requests each, not a timing claim: the known
    # address must not take visibly longer (no hashing, the mail queued).
    built = make_app(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    async with app_client(built.app) as client:
        await register(client, "eve@example.com")

        async def timed(email: str) -> float:
            started = time.perf_counter()
            answer = await client.post("/auth/forgot-password", json={"email": email})
            assert answer.status_code == 202
            return time.perf_counter() - started

        known, unknown = [], []
        for i in range(40):
            known.append(await timed("eve@example.com"))
            unknown.append(await timed(f"nobody{i}@example.com"))
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.5 < ratio < 2.0, ratio
