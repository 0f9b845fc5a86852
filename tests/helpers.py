"""Helpers shared by the tests: HTTP clients over ASGI apps and log capture."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import structlog
import uvicorn

from fastapi_kit.logging import configure_logging
from services.common import free_port

if TYPE_CHECKING:
    from starlette.types import ASGIApp


def client_for(
    app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 5000), **kwargs: Any
) -> httpx.AsyncClient:
    """An httpx client speaking HTTP semantics to ``app`` in-process.

    App exceptions are not re-raised into the test: like a real server, the client
    only sees what the app sent.
    """
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", **kwargs)


@contextmanager
def served_in_thread(app: ASGIApp) -> Iterator[int]:
    """Serve ``app`` with uvicorn (lifespan on) in a thread; yield its port."""
    config = uvicorn.Config(app, port=0, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # wait for a condition, with a deadline
        assert thread.is_alive(), "uvicorn failed to start"
        assert time.monotonic() < deadline, "uvicorn did not start in 20 s"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def served_by_uvicorn(
    app: str,
    *,
    app_dir: Path,
    env: Mapping[str, str],
    workers: int = 1,
    cwd: Path | None = None,
    timeout: float = 60,
) -> Iterator[str]:
    """Serve ``app`` (``module:attribute``) with ``uvicorn`` in a child process.

    On a free port, with ``env`` as its whole environment; ready once ``/healthz``
    answers 200 (its stderr in the failure otherwise). Yields
    ``127.0.0.1:PORT``; stops it with SIGINT, as Ctrl+C would.
    """
    port = free_port()
    options = ["--workers", str(workers), "--port", str(port), "--no-access-log"]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--app-dir", str(app_dir), *options],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            with suppress(httpx.TransportError):
                if httpx.get(f"http://{address}/healthz").status_code == 200:
                    break
            assert server.poll() is None, server.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.1)
        yield address
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        server.stderr.close()  # type: ignore[union-attr]


def sign_up_and_in(client: httpx.Client, email: str, password: str) -> None:
    """Register ``email`` on a served app's ``/auth`` routes and send its bearer token."""
    client.post("/auth/register", json={"email": email, "password": password})
    tokens = client.post("/auth/token", data={"username": email, "password": password}).json()
    client.headers["authorization"] = f"Bearer {tokens['access_token']}"


def flush_logs() -> None:
    """Write out log lines the kit's writer holds until the end of the loop turn."""
    structlog.get_config()["logger_factory"].writer.flush()


class LogCapture:
    """Configures the kit's logging into a buffer and parses the JSON lines."""

    def __init__(
        self, format: str = "json", level: str = "DEBUG", processors: Sequence[Any] = ()
    ) -> None:
        self.buffer = io.StringIO()
        configure_logging(
            format,  # type: ignore[arg-type]
            level,
            stream=self.buffer,
            cache_loggers=False,
            processors=processors,
        )

    @property
    def text(self) -> str:
        flush_logs()
        return self.buffer.getvalue()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def named(self, event: str) -> list[dict[str, Any]]:
        return [entry for entry in self.events if entry.get("event") == event]
