"""A served app's last log lines survive the SIGTERM that stops it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services import free_port

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def test_uvicorns_shutdown_lines_are_written_before_sigterm_ends_the_process(
    tmp_path: Path,
) -> None:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(QUICKSTART)]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--no-proxy-headers"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        assert server.poll() is None, "the app did not start"
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz")
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the app did not answer in 30 s"
            time.sleep(0.05)
    server.send_signal(signal.SIGTERM)
    output, _ = server.communicate(timeout=30)
    events = [json.loads(line)["event"] for line in output.decode().splitlines()]
    assert events[-2:] == [
        "Application shutdown complete.",
        f"Finished server process [{server.pid}]",
    ]
