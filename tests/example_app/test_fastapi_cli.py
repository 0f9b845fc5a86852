"""``fastapi dev`` and ``fastapi run`` serve the example app, configured by ``.env``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services import free_port
from todo_app.migrations import upgrade

ROOT = Path(__file__).resolve().parents[2]
FASTAPI = Path(sys.executable).parent / "fastapi"


@pytest.mark.parametrize("command", ["dev", "run"])
def test_fastapi_cli_serves_the_example_with_the_settings_of_dotenv(
    command: str, tmp_path: Path
) -> None:
    # The repository root as fastapi-cli sees it (its pyproject.toml names the app),
    # with a .env of the test's own rather than the checkout's.
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    database = f"sqlite+aiosqlite:///{tmp_path / 'todo.db'}"
    upgrade(database)
    (tmp_path / ".env").write_text(
        f"DATABASE_URL={database}\nLOG_FORMAT=json\nRATE_LIMIT_DEFAULT=7/minute\n"
    )
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [FASTAPI, command, "--port", str(port), "--host", "127.0.0.1"],
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/todos")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        assert response.status_code == 401
        assert response.headers["ratelimit-policy"] == '"default";q=7;w=60'  # from .env
    finally:
        server.terminate()
        server.wait(timeout=20)
    # Past fastapi-cli's banner, every line is the app's, in JSON (dev mode's reloader
    # process, which never imports the app, logs with uvicorn's defaults: "INFO: ...").
    after_banner = log.read_text().split("Logs:", 1)[1].splitlines()
    app_lines = [line for line in after_banner if line.strip() and not line.startswith("INFO:")]
    events = [json.loads(line)["event"] for line in app_lines]
    assert "secret_key_missing" in events
