"""``SMTPMailSender``: delivery over SMTP (aiosmtplib), from a queue, with retries.

Needs the ``mail`` extra: ``pip install "fastapi-kit[mail]"``.
"""

from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

import structlog
from pydantic import SecretStr

from fastapi_kit._extras import optional_extra
from fastapi_kit.mail.base import DEFAULT_MAIL_FROM

with optional_extra("mail"):
    import aiosmtplib

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Callable

    from fastapi_kit.mail.base import MailMessage

__all__ = ("SMTPMailSender", "SMTPServer")

#: Messages waiting for delivery at most; more are dropped (``mail_queue_full``).
DEFAULT_QUEUE_SIZE = 1000
#: Seconds one SMTP operation (connect, each command) may take.
DEFAULT_TIMEOUT = 10.0
_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True, slots=True)
class SMTPServer:
    """Where and how to deliver, as ``SMTP_URL`` says.

    Forms: ``smtp://user:password@host:587`` (STARTTLS when the server offers it;
    ``?starttls=required`` refuses to go on without it), ``smtps://host:465``
    (TLS from the first byte); ``?timeout=`` seconds (default 10). The port
    defaults to 587 (``smtp``) or 465 (``smtps``). User and password are
    percent-decoded.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    implicit_tls: bool = False
    starttls_required: bool = False
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_url(cls, url: str | SecretStr) -> SMTPServer:
        """Parse an ``smtp://`` or ``smtps://`` URL.

        Raises:
            ValueError: Another scheme, no host, or an unknown or invalid option
                (the message never repeats the URL: it may hold a password).
        """
        raw = url.get_secret_value() if isinstance(url, SecretStr) else url
        parts = urlsplit(raw)
        if parts.scheme not in _PORTS:
            msg = "SMTP_URL must start with smtp:// or smtps://"
            raise ValueError(msg)
        if not parts.hostname:
            msg = "SMTP_URL has no host"
            raise ValueError(msg)
        options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(options) - {"starttls", "timeout"}
        if unknown:
            msg = f"SMTP_URL has unknown options: {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        starttls = options.get("starttls", "auto")
        if starttls not in ("auto", "required"):
            msg = "SMTP_URL's starttls must be 'auto' or 'required'"
            raise ValueError(msg)
        try:
            timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
            port = parts.port or _PORTS[parts.scheme]
        except ValueError:
            msg = "SMTP_URL has an invalid port or timeout"
            raise ValueError(msg) from None
        if not timeout > 0:
            msg = "SMTP_URL's timeout must be positive"
            raise ValueError(msg)
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            implicit_tls=parts.scheme == "smtps",
            starttls_required=starttls == "required",
            timeout=timeout,
        )


class SMTPMailSender:
    """Delivers mail over SMTP from a bounded queue, in the background, with retries.

    For example:

    ```python
    mail = SMTPMailSender("smtp://user:password@mail.example.com:587")
    app = FastAPI(lifespan=mail.lifespan)  # or kit.use_mail(), with SMTP_URL set
    await mail.send(MailMessage(to="ada@example.com", subject="Hi", text="Hello"))
    ```

    ``send`` only puts the message on the queue: a request never waits for the
    mail server. When the queue is full the message is dropped and
    ``mail_queue_full`` logged. A worker started by ``lifespan`` delivers, trying
    ``attempts`` times with exponential backoff; a message that still fails is
    logged as ``mail_send_failed`` with the recipient's domain and the error's
    class only: subjects and bodies hold tokens and are never logged. At
    shutdown, the queue is drained for ``drain_timeout`` seconds at most.

    Args:
        url: ``SMTP_URL`` (see [`SMTPServer`][fastapi_kit.mail.smtp.SMTPServer]).
        mail_from: The ``From`` address.
        queue_size: Messages waiting for delivery at most.
        attempts: Tries per message.
        backoff: Seconds before the first retry; doubled each time.
        drain_timeout: Seconds shutdown waits for the queue to empty.
        tls_context: The TLS settings (trusted certificates...); the system's
            defaults when omitted.
        on_queue_change: Called with the queue's depth each time it changes:
            ``metrics.mail_queue.set`` (``kit.use_mail`` wires it).
    """

    def __init__(
        self,
        url: str | SecretStr,
        *,
        mail_from: str = DEFAULT_MAIL_FROM,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        attempts: int = 3,
        backoff: float = 1.0,
        drain_timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
        on_queue_change: Callable[[int], object] | None = None,
    ) -> None:
        if attempts < 1 or queue_size < 1:
            msg = "attempts and queue_size must be at least 1"
            raise ValueError(msg)
        self.server = SMTPServer.from_url(url)
        self.mail_from = mail_from
        self.attempts = attempts
        self.backoff = backoff
        self.drain_timeout = drain_timeout
        self.tls_context = tls_context
        self.on_queue_change = on_queue_change
        self._queue: asyncio.Queue[MailMessage] = asyncio.Queue(maxsize=queue_size)
        self._logger = structlog.get_logger("fastapi_kit.mail")

    @property
    def queue_depth(self) -> int:
        """Messages waiting for delivery."""
        return self._queue.qsize()

    async def send(self, message: MailMessage) -> None:
        """Queue ``message`` for delivery; drop it (logged) when the queue is full."""
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self._logger.warning(
                "mail_queue_full", domain=_domain(message.to), queue_size=self._queue.maxsize
            )
        else:
            self._queue_changed()

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[None]:
        """Deliver in the background while the app runs; drain the queue at shutdown."""
        worker = asyncio.create_task(self._work(), name="fastapi_kit.mail")
        try:
            yield
        finally:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), self.drain_timeout)
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
            if self._queue.qsize():
                self._logger.warning("mail_queue_abandoned", messages=self._queue.qsize())

    async def _work(self) -> None:
        while True:
            message = await self._queue.get()
            self._queue_changed()
            try:
                await self._deliver(message)
            finally:
                self._queue.task_done()

    def _queue_changed(self) -> None:
        if self.on_queue_change is not None:
            self.on_queue_change(self._queue.qsize())

    async def _deliver(self, message: MailMessage) -> None:
        email = self._email(message)
        for attempt in range(1, self.attempts + 1):
            try:
                await self._send_once(email)
            except Exception as exc:  # noqa: BLE001  # any failure: retry, then log; the worker lives on
                if attempt == self.attempts:
                    self._logger.warning(
                        "mail_send_failed",
                        domain=_domain(message.to),
                        error=type(exc).__name__,
                        attempts=attempt,
                    )
                    return
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            else:
                return

    async def _send_once(self, email: EmailMessage) -> None:
        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.implicit_tls,
            # None: STARTTLS when the server offers it; True: refuse to go on without it.
            start_tls=None if server.implicit_tls else (True if server.starttls_required else None),
            timeout=server.timeout,
            tls_context=self.tls_context,
        )
        try:
            await client.connect()  # then STARTTLS and the login, as configured
            await client.send_message(email)
            # Delivered: a failing QUIT must not make the message go again.
            with suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        finally:
            # Not ``async with``: its exit sends QUIT, and waits for it, even when
            # shutdown cancels a delivery that hangs.
            client.close()

    def _email(self, message: MailMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.mail_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.text, cte=_transfer_encoding(message.text))
        if message.html is not None:
            email.add_alternative(message.html, subtype="html")
        return email


def _transfer_encoding(text: str) -> str | None:
    """``7bit`` for ASCII text with short lines: a token stays whole, readable as sent.

    Quoted-printable (the default) would fold a long token line with ``=`` breaks.
    Anything else keeps the default (``None``).
    """
    # Lines as SMTP counts them: split at CR and LF only (str.splitlines splits more).
    if text.isascii() and all(len(line) <= 998 for line in re.split(r"\r\n|\r|\n", text)):
        return "7bit"
    return None


def _domain(address: str) -> str:
    # The domain alone says where mail fails without logging who it was for.
    return address.rpartition("@")[2] or "unknown"
