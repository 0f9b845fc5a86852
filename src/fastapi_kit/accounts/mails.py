"""The mails of the account lifecycle: email verification and password reset.

Each mail is a [`MailTemplate`][fastapi_kit.accounts.mails.MailTemplate]: a subject, a
plain-text body and an optional HTML body, written with ``string.Template``
placeholders:

| Placeholder    | Value                                                 |
| -------------- | ----------------------------------------------------- |
| `$link`        | the link to open (built by the caller)                |
| `$token`       | the token the link carries, to paste by hand          |
| `$email`       | the recipient's address                               |
| `$app_name`    | the app's name                                        |
| `$ttl_minutes` | how long the link is valid, in whole minutes          |

A literal dollar sign is written ``$$``. Every template is checked when it is made:
an unknown placeholder (a typo such as ``$tokn``) is a ``ValueError`` then, not a
mail sent with a hole in it. So is a text part that breaks the contract every
account mail keeps: it holds ``$link``, and ``Token: $token`` on a line of its own
(the only place the token is written), so a user whose mail client mangles the link
can still paste the token.

[`AccountMails`][fastapi_kit.accounts.mails.AccountMails] holds the two templates and
the app's name; an app overrides either:

```python
from dataclasses import replace

mails = AccountMails(
    app_name="Todo",
    reset=replace(DEFAULT_RESET_MAIL, subject="Your Todo password"),
)
message = mails.reset_message(to="ada@example.com", link=link, token=token, ttl=3600)
```
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Final

from fastapi_kit.mail import MailMessage

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ("DEFAULT_RESET_MAIL", "DEFAULT_VERIFY_MAIL", "AccountMails", "MailTemplate")

# The placeholders a template may use.
_PLACEHOLDERS: Final = ("link", "token", "email", "app_name", "ttl_minutes")
# What the checks of a new template render it with: values no template text can hold
# by chance, so each one found in the output came from its placeholder.
_PROBE: Final = {name: f"\x00{name}\x00" for name in _PLACEHOLDERS}


def _render(part: str, template: str, values: Mapping[str, str]) -> str:
    try:
        return string.Template(template).substitute(values)
    except KeyError as exc:
        known = ", ".join(f"${name}" for name in _PLACEHOLDERS)
        msg = f"unknown placeholder ${exc.args[0]} in the {part} template (known: {known})"
        raise ValueError(msg) from None
    except ValueError as exc:
        msg = f"bad placeholder in the {part} template: {exc} (write a dollar sign as $$)"
        raise ValueError(msg) from None


@dataclass(frozen=True, slots=True)
class MailTemplate:
    """One account mail: its subject, text body and optional HTML body, as templates.

    The strings use ``string.Template`` placeholders (``$link``, ``$token``,
    ``$email``, ``$app_name``, ``$ttl_minutes``; ``$$`` for a dollar sign). In the
    HTML body every value is HTML-escaped; in the subject and text it is not.

    Args:
        subject: The subject line.
        text: The plain-text body. It must hold ``$link``, and the line
            ``Token: $token``, which must be the only use of ``$token``.
        html: The HTML body, or ``None`` for a text-only mail.

    Raises:
        ValueError: A template uses an unknown placeholder or a lone ``$``, or the
            text breaks the contract above.
    """

    subject: str
    text: str
    html: str | None = None

    def __post_init__(self) -> None:
        subject = _render("subject", self.subject, _PROBE)
        if "\n" in subject or "\r" in subject:
            msg = "the subject template must be one line"
            raise ValueError(msg)
        text = _render("text", self.text, _PROBE)
        if _PROBE["link"] not in text:
            msg = "the text template must hold the link: $link"
            raise ValueError(msg)
        token_line = f"Token: {_PROBE['token']}"
        if token_line not in text.splitlines() or text.count(_PROBE["token"]) != 1:
            msg = "the text template must hold the line 'Token: $token', its only $token"
            raise ValueError(msg)
        if self.html is not None:
            _render("html", self.html, _PROBE)

    def render(self, *, to: str, link: str, token: str, app_name: str, ttl: int) -> MailMessage:
        """The message to send ``to``, with the placeholders filled in.

        Args:
            to: The recipient's address (also ``$email``).
            link: The link to open, built by the caller.
            token: The token the link carries.
            app_name: The app's name.
            ttl: How long the link is valid, in seconds (the token's ``ttl``);
                ``$ttl_minutes`` is that in whole minutes, at least 1.

        Raises:
            ValueError: ``ttl`` is not positive, or a value would put a line break in
                the subject.
        """
        if ttl <= 0:
            msg = "a mail's ttl must be positive"
            raise ValueError(msg)
        values = {
            "link": link,
            "token": token,
            "email": to,
            "app_name": app_name,
            "ttl_minutes": str(max(1, ttl // 60)),
        }
        subject = _render("subject", self.subject, values)
        if "\n" in subject or "\r" in subject:
            msg = "a value would break the subject line"
            raise ValueError(msg)
        escaped = {name: escape(value) for name, value in values.items()}
        return MailMessage(
            to=to,
            subject=subject,
            text=_render("text", self.text, values),
            html=None if self.html is None else _render("html", self.html, escaped),
        )


_HTML_HEAD: Final = """\
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>$subject</title></head>
<body style="margin:0;padding:24px;background:#f4f4f5;\
font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;\
font-size:16px;line-height:1.5;color:#18181b;">
<div style="max-width:480px;margin:0 auto;padding:32px;background:#ffffff;\
border-radius:8px;">
"""
_HTML_BUTTON: Final = """\
<p style="margin:24px 0;"><a href="$$link" style="display:inline-block;\
padding:12px 24px;background:#2563eb;color:#ffffff;text-decoration:none;\
border-radius:6px;font-weight:600;">$label</a></p>
<p>If the button does not work, enter this code:</p>
<p><code style="display:inline-block;padding:8px 12px;background:#f4f4f5;\
border-radius:4px;font-family:Menlo,Consolas,monospace;font-size:14px;\
word-break:break-all;">$$token</code></p>
<p style="font-size:13px;color:#71717a;">Or copy this link into your browser:<br>\
<a href="$$link" style="color:#2563eb;word-break:break-all;">$$link</a></p>
"""
_HTML_FOOT: Final = "</div>\n</body>\n</html>\n"


def _html(subject: str, intro: tuple[str, ...], label: str, outro: str) -> str:
    # The shared frame, filled in once: "$$" comes out of this substitution as "$", so
    # the button's placeholders reach the template as $link and $token.
    head = string.Template(_HTML_HEAD).substitute(subject=subject)
    button = string.Template(_HTML_BUTTON).substitute(label=label)
    paragraphs = "".join(f"<p>{paragraph}</p>\n" for paragraph in intro)
    return f"{head}{paragraphs}{button}<p>{outro}</p>\n{_HTML_FOOT}"


#: The default email-verification mail.
DEFAULT_VERIFY_MAIL: Final = MailTemplate(
    subject="Confirm your email address",
    text="""\
Hello,

Please confirm that $email is your email address for $app_name
by opening this link:

$link

If the link does not open, enter this code instead:

Token: $token

If you did not sign up for $app_name, you can ignore this email.
""",
    html=_html(
        "Confirm your email address",
        ("Hello,", "Please confirm that $email is your email address for $app_name."),
        "Confirm email address",
        "If you did not sign up for $app_name, you can ignore this email.",
    ),
)

#: The default password-reset mail.
DEFAULT_RESET_MAIL: Final = MailTemplate(
    subject="Reset your password",
    text="""\
Hello,

Someone asked to reset the password of your $app_name account ($email).
To choose a new password, open this link:

$link

The link expires in $ttl_minutes minutes and works once. If it does not
open, enter this code instead:

Token: $token

If you did not ask for this, ignore this email: your password stays as it is.
""",
    html=_html(
        "Reset your password",
        (
            "Hello,",
            "Someone asked to reset the password of your $app_name account ($email).",
            "The link expires in $ttl_minutes minutes and works once.",
        ),
        "Choose a new password",
        "If you did not ask for this, ignore this email: your password stays as it is.",
    ),
)


@dataclass(frozen=True, slots=True)
class AccountMails:
    """The account mails an app sends, and the name they sign with.

    Args:
        verify: The email-verification mail.
        reset: The password-reset mail.
        app_name: The app's name, for ``$app_name``.

    Raises:
        ValueError: ``app_name`` is empty or holds a line break.
    """

    verify: MailTemplate = DEFAULT_VERIFY_MAIL
    reset: MailTemplate = DEFAULT_RESET_MAIL
    app_name: str = "fastapi-kit"

    def __post_init__(self) -> None:
        if not self.app_name.strip() or "\n" in self.app_name or "\r" in self.app_name:
            msg = "app_name must be one non-empty line"
            raise ValueError(msg)

    def verify_message(self, *, to: str, link: str, token: str, ttl: int) -> MailMessage:
        """The email-verification mail to ``to``, signed with ``app_name``.

        Raises:
            ValueError: As [`MailTemplate.render`][fastapi_kit.accounts.mails.MailTemplate.render].
        """
        return self.verify.render(to=to, link=link, token=token, app_name=self.app_name, ttl=ttl)

    def reset_message(self, *, to: str, link: str, token: str, ttl: int) -> MailMessage:
        """The password-reset mail to ``to``, signed with ``app_name``.

        Raises:
            ValueError: As [`MailTemplate.render`][fastapi_kit.accounts.mails.MailTemplate.render].
        """
        return self.reset.render(to=to, link=link, token=token, app_name=self.app_name, ttl=ttl)
