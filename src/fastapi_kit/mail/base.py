"""The message a mail sender takes, and the ``MailSender`` protocol every sender follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

__all__ = ("DEFAULT_MAIL_FROM", "MailMessage", "MailSender")

#: The ``From`` address when none is configured (``MAIL_FROM``).
DEFAULT_MAIL_FROM = "no-reply@localhost"


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One message to one recipient: a plain-text body, and optionally an HTML one.

    Args:
        to: The recipient's address.
        subject: The subject line.
        text: The plain-text body (always sent: the fallback of HTML mail).
        html: An HTML alternative of ``text``, or ``None``.
    """

    to: str
    subject: str
    text: str
    html: str | None = None


class MailSender(Protocol):
    """Something that delivers mail: SMTP, process memory (tests), or nowhere.

    ``send`` hands the message over and returns without waiting for the network;
    ``lifespan`` runs around the app's lifetime (it starts and stops delivery).
    """

    async def send(self, message: MailMessage) -> None:
        """Hand ``message`` over for delivery; never waits for the mail server."""
        ...

    def lifespan(self, _app: object = None) -> AbstractAsyncContextManager[None]:
        """Run delivery for the app's lifetime (start-up to shutdown)."""
        ...
