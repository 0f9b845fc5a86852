"""``MemoryMailSender`` (keeps messages, for tests) and ``NullMailSender`` (sends nothing)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi_kit.mail.base import MailMessage

__all__ = ("MemoryMailSender", "NullMailSender")


class MemoryMailSender:
    """Keeps every message it is given in ``sent``: for tests and development.

    For example:

    ```python
    mail = MemoryMailSender()
    kit.use_mail(mail)
    ...
    assert mail.sent[-1].to == "ada@example.com"
    ```
    """

    def __init__(self) -> None:
        #: The messages sent, oldest first.
        self.sent: list[MailMessage] = []

    @property
    def queue_depth(self) -> int:
        """Messages waiting for delivery: always 0, they are kept at once."""
        return 0

    async def send(self, message: MailMessage) -> None:
        """Keep ``message`` in ``sent``."""
        self.sent.append(message)

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[None]:
        """Nothing to start or stop."""
        yield


class NullMailSender:
    """Sends nothing: mail delivery is not configured (``SMTP_URL`` unset).

    Its lifespan logs a ``mail_disabled`` warning once, at start-up, so a missing
    ``SMTP_URL`` in production shows in the logs instead of as mail that never comes.
    """

    def __init__(self) -> None:
        self._warned = False
        self._logger = structlog.get_logger("fastapi_kit.mail")

    @property
    def queue_depth(self) -> int:
        """Messages waiting for delivery: always 0."""
        return 0

    async def send(self, message: MailMessage) -> None:
        """Drop ``message``."""

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[None]:
        """Warn (once) that no mail will be sent."""
        if not self._warned:
            self._warned = True
            self._logger.warning(
                "mail_disabled", detail="SMTP_URL is not set: no mail will be sent."
            )
        yield
