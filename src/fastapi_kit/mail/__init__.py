"""Mail delivery: SMTP from a background queue, or memory (tests), or nowhere.

For example:

```python
mail = kit.use_mail()  # SMTP when SMTP_URL is set; otherwise nothing is sent (warned)


@app.post("/invite")
async def invite(email: str) -> None:
    await mail.send(MailMessage(to=email, subject="Welcome", text="..."))
```

``SMTPMailSender`` needs the ``mail`` extra: ``pip install "fastapi-kit[mail]"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_kit.mail.base import DEFAULT_MAIL_FROM, MailMessage, MailSender
from fastapi_kit.mail.memory import MemoryMailSender, NullMailSender

if TYPE_CHECKING:
    from fastapi_kit.mail.smtp import SMTPMailSender

__all__ = (
    "DEFAULT_MAIL_FROM",
    "MailMessage",
    "MailSender",
    "MemoryMailSender",
    "NullMailSender",
    "SMTPMailSender",
)


def __getattr__(name: str) -> object:
    # The SMTP sender needs the optional extra: imported on first use only.
    if name == "SMTPMailSender":
        from fastapi_kit.mail.smtp import SMTPMailSender

        return SMTPMailSender
    msg = f"module 'fastapi_kit.mail' has no attribute {name!r}"
    raise AttributeError(msg)
