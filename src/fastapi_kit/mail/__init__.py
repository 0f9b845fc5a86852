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

from fastapi_kit._lazy import lazy_exports
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


# SMTPMailSender needs an optional extra: imported on first use only.
__getattr__ = lazy_exports(__name__, {"SMTPMailSender": "fastapi_kit.mail.smtp"})
