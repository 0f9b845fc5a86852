"""The README's install lines and quickstart, run as written in fresh virtualenvs.

These need the package index for the kit's dependencies (pip's cache makes later runs
quick), as any ``pip install`` does.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from services import free_port

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
QUICKSTART = ROOT / "examples" / "quickstart" / "app.py"


def console_commands(text: str) -> list[str]:
    """Every ``$ command`` of the text's console blocks, comments dropped."""
    blocks = re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()]
    return [line[2:].split("  #")[0].strip() for line in lines if line.startswith("$ ")]


def readme_command(prefix: str) -> list[str]:
    [command] = [c for c in console_commands(README) if c.startswith(prefix)]
    return shlex.split(command)


def fresh_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", path], check=True, timeout=120)
    return path / "bin"


def pip(bin_dir: Path, arguments: list[str], cwd: Path) -> None:
    assert arguments[:2] == ["pip", "install"]
    result = subprocess.run(
        [bin_dir / "pip", "install", "--disable-pip-version-check", *arguments[2:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture
def serve_quickstart(tmp_path: Path) -> Iterator[Callable[[Path], str]]:
    """Serve ``app.py`` (the quickstart) with a venv's uvicorn, as the README says."""
    servers: list[subprocess.Popen[bytes]] = []

    def serve(bin_dir: Path) -> str:
        project = tmp_path / "project"
        project.mkdir(exist_ok=True)
        shutil.copy(QUICKSTART, project / "app.py")
        command = readme_command("uvicorn app:app")
        port = free_port()
        server = subprocess.Popen(
            [bin_dir / command[0], *command[1:], "--port", str(port)],
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(server)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, "the quickstart did not start"
            try:
                httpx.get(f"{base}/healthz")
                return base
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the quickstart did not answer in 30 s"
                time.sleep(0.05)

    yield serve
    for server in servers:
        server.terminate()
        server.wait(timeout=20)


def readme_curl_output() -> tuple[str, dict[str, str], dict[str, object]]:
    """What the README shows ``curl -i`` answering: status line, headers, body."""
    after = README.split("$ curl -i localhost:8000/notes/2", 1)[1]
    shown = after.split("\n", 1)[1].split("```", 1)[0]  # from the line after the command
    head, body = shown.strip().split("\n\n", 1)
    status, *fields = head.splitlines()
    headers = dict(field.split(": ", 1) for field in fields)
    return status, headers, json.loads(body)


def check_quickstart(base: str) -> None:
    found = httpx.get(f"{base}/notes/1")
    missing = httpx.get(f"{base}/notes/2")
    assert found.json() == {"id": 1, "text": "Hello, kit"}
    status, headers, body = readme_curl_output()
    assert status == f"HTTP/1.1 {missing.status_code} {missing.reason_phrase}"
    assert list(missing.headers) == list(headers)
    varying = {"date", "x-request-id"}
    assert {k: v for k, v in missing.headers.items() if k not in varying} == {
        k: v for k, v in headers.items() if k not in varying
    }
    assert missing.json() == body | {"request_id": missing.headers["x-request-id"]}


def test_no_page_tells_people_to_install_the_unrelated_pypi_project() -> None:
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *ROOT.glob("examples/**/*.md")]
    for page in pages:
        text = page.read_text()
        commands = [c for c in console_commands(text) if re.match(r"pip install \W?fastapi-kit", c)]
        assert not commands, (page, commands)
        assert not re.search(r"pip\s+install\s+\W?fastapi-kit\[", text), page


def test_the_built_wheel_is_the_one_the_readme_installs(wheelhouse: Path) -> None:
    [wheel] = (wheelhouse / "dist").glob("*.whl")
    assert readme_command('pip install "dist/')[2].startswith(f"dist/{wheel.name}[")
    assert len(list((wheelhouse / "dist").glob("*.tar.gz"))) == 1


def test_the_wheel_installed_into_a_fresh_venv_serves_the_quickstart(
    wheelhouse: Path, tmp_path: Path, serve_quickstart: Callable[[Path], str]
) -> None:
    bin_dir = fresh_venv(tmp_path / "venv")
    pip(bin_dir, readme_command('pip install "dist/'), cwd=wheelhouse)
    check_quickstart(serve_quickstart(bin_dir))
    # Only the kit: the example app and the dev tools stay out of the wheel.
    probe = "import fastapi_kit, importlib.util as u; print(u.find_spec('todo_app'))"
    shown = subprocess.run([bin_dir / "python", "-c", probe], capture_output=True, text=True)
    assert shown.stdout.strip() == "None"


def test_installing_from_the_checkout_serves_the_quickstart(
    tmp_path: Path, serve_quickstart: Callable[[Path], str]
) -> None:
    bin_dir = fresh_venv(tmp_path / "venv")
    pip(bin_dir, readme_command("pip install ."), cwd=ROOT)
    check_quickstart(serve_quickstart(bin_dir))
