"""The example's README: its curl session, run verbatim against the served app."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import served_by_uvicorn

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "examples" / "todo_app" / "README.md"
SECTION = "## A first session with curl"


def walkthrough() -> list[tuple[str, list[str]]]:
    """The README's session: each command, with the output it shows."""
    text = README.read_text().split(SECTION, 1)[1]
    block = re.search(r"```console\n(.*?)```", text, re.DOTALL)
    assert block is not None
    steps: list[tuple[str, list[str]]] = []
    lines = iter(block.group(1).splitlines())
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + next(lines).strip()
            steps.append((command, []))
        elif line.strip():
            steps[-1][1].append(line)
    return steps


def matches(shown: str, actual: str) -> bool:
    """Whether ``actual`` is what the README shows, ``...`` standing for anything."""
    pattern = ".*".join(re.escape(part) for part in shown.split("..."))
    return re.fullmatch(pattern, actual) is not None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``make run``'s commands, on a fresh database and a free port: the port."""
    env = os.environ | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'todo.db'}",
        "PYTHONPATH": str(ROOT / "examples"),
        "LOG_FORMAT": "console",
    }
    migrate = [sys.executable, "-m", "todo_app", "migrate"]
    subprocess.run(migrate, env=env, check=True, capture_output=True, timeout=120)
    # In tmp_path: no .env of the checkout's.
    app_dir = ROOT / "examples"
    with served_by_uvicorn("todo_app.main:app", app_dir=app_dir, env=env, cwd=tmp_path) as address:
        yield address.rpartition(":")[2]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough needs curl")
def test_the_readmes_curl_session_works_verbatim(served: str, tmp_path: Path) -> None:
    marker = "@@step@@"
    script = "\n".join(
        f"{command.replace('127.0.0.1:8000', f'127.0.0.1:{served}')}\necho {marker}"
        for command, _ in walkthrough()
    )
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    outputs = result.stdout.split(f"{marker}\n")
    steps = walkthrough()
    assert len(outputs) == len(steps) + 1
    for (command, shown), actual in zip(steps, outputs, strict=False):
        lines = actual.splitlines()
        assert len(lines) == len(shown), (command, actual)
        for expected, line in zip(shown, lines, strict=True):
            assert matches(expected, line), (command, expected, line)
