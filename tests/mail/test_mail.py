"""Mail senders: SMTP against a real server (aiosmtpd), memory, null, and the Kit wiring."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from fastapi_kit import Kit, KitSettings
from fastapi_kit.mail import (
    DEFAULT_MAIL_FROM,
    MailMessage,
    MailSender,
    MemoryMailSender,
    NullMailSender,
    SMTPMailSender,
)
from fastapi_kit.mail.smtp import SMTPServer
from fastapi_kit.testing import app_client
from helpers import LogCapture
from services.smtp import Inbox, self_signed, server_context, smtp_server, until

SECRET_SUBJECT = "Your reset token tok-SUBJECT-123"
SECRET_TEXT = "Reset with tok-BODY-456"
MESSAGE = MailMessage(
    to="ada@example.com", subject=SECRET_SUBJECT, text=SECRET_TEXT, html="<p>tok-HTML-789</p>"
)


# --- contract: every sender --------------------------------------------------------


@pytest.fixture(params=["memory", "smtp"])
async def sender(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[MailSender, Callable[[], list[tuple[str, str, str]]]]]:
    """A sender, and what arrived so far as (to, subject, text)."""
    if request.param == "memory":
        memory = MemoryMailSender()
        yield memory, lambda: [(m.to, m.subject, m.text) for m in memory.sent]
        return
    inbox = Inbox()
    with smtp_server(inbox) as port:
        yield (
            SMTPMailSender(f"smtp://127.0.0.1:{port}"),
            lambda: [
                (m["To"], m["Subject"], m.get_body(("plain",)).get_content().rstrip())  # type: ignore[union-attr]
                for m in inbox.received
            ],
        )


async def test_every_sender_delivers_what_it_is_sent(
    sender: tuple[MailSender, Callable[[], list[tuple[str, str, str]]]],
) -> None:
    mail, arrived = sender
    async with mail.lifespan():
        await mail.send(MailMessage(to="a@example.com", subject="One", text="first"))
        await mail.send(MailMessage(to="b@example.org", subject="Two", text="second"))
        await until(lambda: len(arrived()) == 2)
    assert sorted(arrived()) == [
        ("a@example.com", "One", "first"),
        ("b@example.org", "Two", "second"),
    ]


# --- SMTP ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Token: " + "t" * 400 + "\nhttps://app.example.com/#token=" + "t" * 400, "7bit"),
        ("Tökén: " + "t" * 400, "quoted-printable"),  # not ASCII: the default encoding
        ("a" * 600 + "\x0c" + "b" * 600, "quoted-printable"),  # one 1,201-octet SMTP line
    ],
)
async def test_a_long_ascii_line_arrives_whole(text: str, encoding: str) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}")
        async with mail.lifespan():
            await mail.send(MailMessage(to="a@example.com", subject="Link", text=text))
            await until(lambda: len(inbox.received) == 1)
    [message] = inbox.received
    assert message["Content-Transfer-Encoding"] == encoding
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == text
    if encoding == "7bit":  # readable as sent, in a raw mail sink too
        assert text.splitlines()[0] in message.as_string()


async def test_a_message_arrives_with_its_headers_and_both_parts() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}", mail_from="app@example.com")
        async with mail.lifespan():
            await mail.send(MESSAGE)
            await until(lambda: len(inbox.received) == 1)
    [message] = inbox.received
    assert (message["From"], message["To"], message["Subject"]) == (
        "app@example.com",
        "ada@example.com",
        SECRET_SUBJECT,
    )
    assert message.get_body(("plain",)).get_content().strip() == SECRET_TEXT  # type: ignore[union-attr]
    assert message.get_body(("html",)).get_content().strip() == "<p>tok-HTML-789</p>"  # type: ignore[union-attr]


async def test_without_html_the_message_is_plain_text() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}")
        async with mail.lifespan():
            await mail.send(MailMessage(to="a@example.com", subject="Hi", text="plain"))
            await until(lambda: len(inbox.received) == 1)
    [message] = inbox.received
    assert message.get_content_type() == "text/plain"
    assert message["From"] == DEFAULT_MAIL_FROM


async def test_starttls_required_with_a_login(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    inbox = Inbox()
    with smtp_server(
        inbox,
        tls_context=server_context(cert, key),
        require_starttls=True,
        authenticator=inbox.authenticate,
        auth_required=True,
    ) as port:
        mail = SMTPMailSender(
            f"smtp://ada%40example.com:s3cret@127.0.0.1:{port}?starttls=required",
            tls_context=ssl.create_default_context(cafile=cert),
        )
        async with mail.lifespan():
            await mail.send(MESSAGE)
            await until(lambda: len(inbox.received) == 1)
    assert inbox.logins == [(b"ada@example.com", b"s3cret")]


async def test_an_untrusted_certificate_is_refused(tmp_path: Path, logs: LogCapture) -> None:
    cert, key = self_signed(tmp_path)
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_context(cert, key), require_starttls=True) as port:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}", attempts=1)  # system trust store
        async with mail.lifespan():
            await mail.send(MESSAGE)
            await until(lambda: bool(logs.named("mail_send_failed")))
    assert inbox.received == []


async def test_implicit_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=server_context(cert, key)) as port:
        mail = SMTPMailSender(
            f"smtps://127.0.0.1:{port}", tls_context=ssl.create_default_context(cafile=cert)
        )
        async with mail.lifespan():
            await mail.send(MESSAGE)
            await until(lambda: len(inbox.received) == 1)


def assert_failure_logged_without_secrets(logs: LogCapture, error: str) -> None:
    [failed] = logs.named("mail_send_failed")
    assert failed["domain"] == "example.com"
    assert failed["error"] == error
    assert failed["attempts"] == 3
    for secret in ("tok-", "ada@", "Reset"):
        assert secret not in logs.text


async def test_a_refusing_server_is_retried_then_the_failure_logged(logs: LogCapture) -> None:
    inbox = Inbox(refuse=True)
    with smtp_server(inbox) as port:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}", backoff=0.01)
        async with mail.lifespan():
            await mail.send(MESSAGE)
            await until(lambda: bool(logs.named("mail_send_failed")))
    assert inbox.attempts == 3
    assert_failure_logged_without_secrets(logs, "SMTPDataError")


async def test_a_server_that_never_answers_times_out_and_is_retried(logs: LogCapture) -> None:
    connections = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read()  # never greets; returns when the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}?timeout=0.1", backoff=0.01)
        async with mail.lifespan():
            await mail.send(MESSAGE)
            await until(lambda: bool(logs.named("mail_send_failed")))
    assert connections == 3
    assert_failure_logged_without_secrets(logs, "SMTPConnectTimeoutError")


async def test_send_returns_before_the_server_has_the_message() -> None:
    inbox = Inbox()
    inbox.release.clear()  # the server holds every delivery until released
    with smtp_server(inbox) as port:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}")
        async with mail.lifespan():
            await mail.send(MESSAGE)
            await until(lambda: inbox.attempts == 1)  # the delivery is under way...
            assert inbox.received == []  # ...and send() did not wait for it
            inbox.release.set()
            await until(lambda: len(inbox.received) == 1)


async def test_a_full_queue_drops_the_message_at_once(logs: LogCapture) -> None:
    mail = SMTPMailSender("smtp://127.0.0.1:1", queue_size=1)  # no worker: nothing leaves
    await mail.send(MESSAGE)
    await mail.send(MESSAGE)  # returns although nothing will ever take from the queue
    assert mail.queue_depth == 1
    [full] = logs.named("mail_queue_full")
    assert full["domain"] == "example.com"
    assert "tok-" not in logs.text


async def test_shutdown_drains_the_queue() -> None:
    inbox = Inbox(delay=0.02)
    with smtp_server(inbox) as port:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}")
        async with mail.lifespan():
            for _ in range(3):
                await mail.send(MESSAGE)
        assert len(inbox.received) == 3
        assert mail.queue_depth == 0


async def test_draining_is_bounded(logs: LogCapture) -> None:
    inbox = Inbox()
    inbox.release.clear()
    with smtp_server(inbox) as port:
        mail = SMTPMailSender(f"smtp://127.0.0.1:{port}", drain_timeout=0.2)
        async with asyncio.timeout(60):  # a shutdown waiting on the held server would hang
            async with mail.lifespan():
                for _ in range(3):
                    await mail.send(MESSAGE)
    assert logs.named("mail_queue_abandoned")[0]["messages"] == 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SMTPServer("mail.example.com", 587)),
        (
            "smtp://u%40x:p%3Aw@mail.example.com:2525?starttls=required&timeout=3",
            SMTPServer("mail.example.com", 2525, "u@x", "p:w", starttls_required=True, timeout=3),
        ),
        ("smtps://mail.example.com", SMTPServer("mail.example.com", 465, implicit_tls=True)),
    ],
)
def test_smtp_urls(url: str, expected: SMTPServer) -> None:
    assert SMTPServer.from_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://u:hunter2@mail.example.com",
        "smtp://u:hunter2@",
        "smtp://u:hunter2@h?starttls=maybe",
        "smtp://u:hunter2@h?tls=1",
        "smtp://u:hunter2@h?timeout=0",
        "smtp://u:hunter2@h:port",
    ],
)
def test_bad_smtp_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL") as caught:
        SMTPServer.from_url(url)
    assert "hunter2" not in str(caught.value)


# --- null sender and Kit --------------------------------------------------------------


async def test_without_smtp_url_the_kit_warns_at_start_up_and_sends_nothing(
    logs: LogCapture,
) -> None:
    kit = Kit(KitSettings())
    mail = kit.use_mail()
    assert isinstance(mail, NullMailSender)
    app = kit.install(FastAPI(), logging=False)
    async with app_client(app):
        await mail.send(MESSAGE)
    assert len(logs.named("mail_disabled")) == 1
    assert mail.queue_depth == 0


async def test_with_smtp_url_the_kit_delivers_from_mail_from() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        settings = KitSettings(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="app@example.com")  # type: ignore[arg-type]
        kit = Kit(settings)
        mail = kit.use_mail()
        assert isinstance(mail, SMTPMailSender)
        assert kit.mail is mail
        async with app_client(kit.install(FastAPI(), logging=False)):
            await mail.send(MESSAGE)
        assert [m["From"] for m in inbox.received] == ["app@example.com"]


async def test_the_kits_metrics_show_the_mails_waiting() -> None:
    inbox = Inbox()
    inbox.release.clear()  # the server holds the first delivery: the rest wait
    with smtp_server(inbox) as port:
        kit = Kit(KitSettings(smtp_url=f"smtp://127.0.0.1:{port}"))  # type: ignore[arg-type]
        mail = kit.use_mail()
        async with app_client(kit.install(FastAPI(), logging=False)) as client:

            async def depth() -> str:
                scraped = (await client.get("/metrics")).text
                [line] = [x for x in scraped.splitlines() if x.startswith("fastapi_kit_mail_queue")]
                return line

            for _ in range(3):
                await mail.send(MESSAGE)
            await until(lambda: inbox.attempts == 1)  # one is being delivered
            assert await depth() == "fastapi_kit_mail_queue_depth 2.0"
            inbox.release.set()
            await until(lambda: len(inbox.received) == 3)
            assert await depth() == "fastapi_kit_mail_queue_depth 0.0"


async def test_the_kit_takes_another_sender() -> None:
    kit = Kit(KitSettings())
    memory = MemoryMailSender()
    assert kit.use_mail(memory) is memory
    async with app_client(kit.install(FastAPI(), logging=False)):
        await memory.send(MESSAGE)
    assert memory.sent == [MESSAGE]
    assert memory.queue_depth == 0


def test_the_parsed_server_never_shows_its_password() -> None:
    server = SMTPServer.from_url("smtp://user:s3cret-pass@mail.example.com:587")
    assert server.password == "s3cret-pass"
    assert "s3cret-pass" not in repr(server)
