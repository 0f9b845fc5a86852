"""Account mails: the defaults, HTML escaping, overrides, and the contract a template keeps."""

from __future__ import annotations

import dataclasses

import pytest

from fastapi_kit.accounts.mails import (
    DEFAULT_RESET_MAIL,
    DEFAULT_VERIFY_MAIL,
    AccountMails,
    MailTemplate,
)
from fastapi_kit.mail import MailMessage

TO = "ada@example.com"
LINK = "https://app.example.com/verify?id=7"
TOKEN = "tok-5f2a.9c"
TEXT = "Open $link\n\nToken: $token\n"


def render(template: MailTemplate, **overrides: object) -> MailMessage:
    values: dict[str, object] = {
        "to": TO,
        "link": LINK,
        "token": TOKEN,
        "app_name": "Todo",
        "ttl": 3600,
    }
    values.update(overrides)
    return template.render(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("template", [DEFAULT_VERIFY_MAIL, DEFAULT_RESET_MAIL])
def test_defaults_hold_the_link_and_a_token_line(template: MailTemplate) -> None:
    message = render(template)
    assert message.to == TO
    assert LINK in message.text.splitlines()
    assert message.text.splitlines().count(f"Token: {TOKEN}") == 1
    # The token is written once, on its own line.
    assert message.text.count(TOKEN) == 1
    assert "$" not in message.text
    assert "Todo" in message.text
    assert message.html is not None
    assert f'href="{LINK}"' in message.html
    assert f">{TOKEN}</code>" in message.html
    assert "$" not in message.html


def test_the_token_line_is_its_own_even_when_the_link_carries_the_token() -> None:
    link = f"https://app.example.com/reset?token={TOKEN}"
    message = render(DEFAULT_RESET_MAIL, link=link)
    lines = message.text.splitlines()
    assert lines.count(f"Token: {TOKEN}") == 1
    assert link in lines


def test_default_subjects_and_wording() -> None:
    verify, reset = render(DEFAULT_VERIFY_MAIL), render(DEFAULT_RESET_MAIL, ttl=1800)
    assert verify.subject == "Confirm your email address"
    assert reset.subject == "Reset your password"
    assert "30 minutes" in reset.text
    assert "did not ask" in reset.text
    assert "30 minutes" in (reset.html or "")
    assert TO in verify.text


@pytest.mark.parametrize(("ttl", "minutes"), [(3600, "60"), (90, "1"), (1, "1"), (86400, "1440")])
def test_ttl_minutes_are_whole_minutes_at_least_one(ttl: int, minutes: str) -> None:
    template = MailTemplate(subject="s", text="$ttl_minutes\n$link\nToken: $token")
    assert render(template, ttl=ttl).text.splitlines()[0] == minutes


@pytest.mark.parametrize("ttl", [0, -60])
def test_a_ttl_must_be_positive(ttl: int) -> None:
    with pytest.raises(ValueError, match="ttl must be positive"):
        render(DEFAULT_RESET_MAIL, ttl=ttl)


def test_html_values_are_escaped_and_text_values_are_not() -> None:
    link = 'https://app.example.com/verify?a=1&b=<2>"'
    message = render(DEFAULT_VERIFY_MAIL, link=link, app_name="Tom & Jerry's <App>")
    assert message.html is not None
    assert 'href="https://app.example.com/verify?a=1&amp;b=&lt;2&gt;&quot;"' in message.html
    assert "Tom &amp; Jerry&#x27;s &lt;App&gt;" in message.html
    assert link not in message.html
    assert "<App>" not in message.html
    assert link in message.text.splitlines()
    assert "Tom & Jerry's <App>" in message.text


def test_all_placeholders_are_filled() -> None:
    template = MailTemplate(
        subject="$app_name: $email",
        text="$link\nToken: $token\n$email $app_name $ttl_minutes $$5",
        html="<a href='$link'>$token</a> $email $app_name ${ttl_minutes}min $$",
    )
    message = render(template, ttl=120)
    assert message.subject == f"Todo: {TO}"
    assert message.text == f"{LINK}\nToken: {TOKEN}\n{TO} Todo 2 $5"
    assert message.html == f"<a href='{LINK}'>{TOKEN}</a> {TO} Todo 2min $"


def test_a_text_only_template_renders_no_html() -> None:
    message = render(MailTemplate(subject="Hi", text=TEXT))
    assert message.html is None
    assert message.text == f"Open {LINK}\n\nToken: {TOKEN}\n"


def test_braced_placeholders_keep_the_contract() -> None:
    template = MailTemplate(subject="s", text="${link}\nToken: ${token}")
    assert render(template).text == f"{LINK}\nToken: {TOKEN}"


def test_account_mails_defaults() -> None:
    mails = AccountMails()
    assert mails.verify is DEFAULT_VERIFY_MAIL
    assert mails.reset is DEFAULT_RESET_MAIL
    assert mails.app_name == "fastapi-kit"
    message = mails.verify_message(to=TO, link=LINK, token=TOKEN, ttl=86400)
    assert message == render(DEFAULT_VERIFY_MAIL, app_name="fastapi-kit", ttl=86400)
    assert "fastapi-kit" in message.text


def test_account_mails_override() -> None:
    reset = dataclasses.replace(DEFAULT_RESET_MAIL, subject="Your $app_name password")
    verify = MailTemplate(
        subject="Welcome to $app_name",
        text="Hi $email, confirm here:\n$link\nToken: $token\n",
        html="<p><a href='$link'>Confirm</a> <code>$token</code></p>",
    )
    mails = AccountMails(verify=verify, reset=reset, app_name="Todo")
    message = mails.reset_message(to=TO, link=LINK, token=TOKEN, ttl=900)
    assert message.subject == "Your Todo password"
    assert "15 minutes" in message.text
    assert message.text == render(DEFAULT_RESET_MAIL, ttl=900).text
    welcome = mails.verify_message(to=TO, link=LINK, token=TOKEN, ttl=60)
    assert welcome == MailMessage(
        to=TO,
        subject="Welcome to Todo",
        text=f"Hi {TO}, confirm here:\n{LINK}\nToken: {TOKEN}\n",
        html=f"<p><a href='{LINK}'>Confirm</a> <code>{TOKEN}</code></p>",
    )


def test_templates_and_mails_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_VERIFY_MAIL.text = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        AccountMails().app_name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "Token: $token\n",  # no link
        "Open $linkx\nToken: $token",  # not $link but an unknown name
        "$link\n",  # no token line
        "$link\nToken:$token",  # not exactly the line
        "$link\nToken: $token.",
        "$link\n Token: $token",
        "$link\nYour Token: $token",
        "$link\ntoken: $token",
        "$link $token",
        "$link\nToken: $token\nAgain: $token",  # the token written twice
        "$link\nToken: $token\nToken: $token",
    ],
)
def test_a_text_without_the_link_or_the_token_line_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="text template"):
        MailTemplate(subject="s", text=text)


@pytest.mark.parametrize(
    ("fields", "part", "name"),
    [
        ({"text": "$link\nToken: $tokn"}, "text", "tokn"),
        ({"text": "$link\nToken: $token\n$Link"}, "text", "Link"),
        ({"text": TEXT, "subject": "Hi $user"}, "subject", "user"),
        ({"text": TEXT, "html": "<a href='$link'>$lnk</a>"}, "html", "lnk"),
        ({"text": TEXT, "html": "${app}"}, "html", "app"),
    ],
)
def test_an_unknown_placeholder_is_refused_by_name(
    fields: dict[str, str], part: str, name: str
) -> None:
    values = {"subject": "s", **fields}
    with pytest.raises(ValueError, match=rf"unknown placeholder \${name} in the {part} template"):
        MailTemplate(**values)


@pytest.mark.parametrize(
    ("fields", "part"),
    [
        ({"text": "$link\nToken: $token\nCosts $5"}, "text"),
        ({"text": TEXT, "subject": "100$"}, "subject"),
        ({"text": TEXT, "html": "<b>$ </b>"}, "html"),
    ],
)
def test_a_lone_dollar_sign_is_refused(fields: dict[str, str], part: str) -> None:
    values = {"subject": "s", **fields}
    with pytest.raises(ValueError, match=rf"bad placeholder in the {part} template.*\$\$"):
        MailTemplate(**values)


def test_a_subject_is_one_line() -> None:
    with pytest.raises(ValueError, match="subject template must be one line"):
        MailTemplate(subject="Hello\nBcc: x@example.com", text=TEXT)
    template = MailTemplate(subject="Hello from $app_name", text=TEXT)
    with pytest.raises(ValueError, match="would break the subject line"):
        render(template, app_name="Todo\r\nBcc: x@example.com")


@pytest.mark.parametrize("app_name", ["", "  ", "Todo\nApp", "Todo\r"])
def test_app_name_is_one_non_empty_line(app_name: str) -> None:
    with pytest.raises(ValueError, match="app_name"):
        AccountMails(app_name=app_name)
