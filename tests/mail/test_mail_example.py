"""docs/examples/mail_app.py delivers through a real SMTP server, as docs/mail.md says."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from fastapi_kit.testing import app_client
from services.smtp import Inbox, smtp_server, until

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "mail_app.py"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"snippet_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_mail_app(monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("MAIL_FROM", "team@example.com")
        monkeypatch.setenv("PUBLIC_URL", "https://app.example.com")
        module = load(EXAMPLE)
        async with app_client(module.app) as client:
            response = await client.post("/invites", json={"email": "ada@example.com"})
            await until(lambda: len(inbox.received) == 1)
    assert response.status_code == 202
    [message] = inbox.received
    assert (message["From"], message["To"]) == ("team@example.com", "ada@example.com")
    body = message.get_body(("plain",))
    assert body is not None
    assert "https://app.example.com/join" in body.get_content()
