from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_served_app_continues_the_traceparent_into_spans_and_log_lines(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVICE_NAME": "served-app",
        "PYTHONUNBUFFERED": "1",
    }
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("w") as out, stderr.open("w") as err:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "served_tracing_app:app",
                "--app-dir",
                str(HERE),
                "--port",
                str(port),
                "--no-access-log",
            ],
            stdout=out,
            stderr=err,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, stderr.read_text()
                try:
                    response = httpx.get(
                        f"http://127.0.0.1:{port}/hello/ada",
                        headers={"traceparent": TRACEPARENT},
                    )
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
                    time.sleep(0.05)
            assert response.json() == {"hello": "ada"}
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    assert server.returncode == 0, stderr.read_text()

    decoder = json.JSONDecoder()
    text, spans, position = stdout.read_text(), [], 0
    while (start := text.find("{", position)) != -1:
        span, position = decoder.raw_decode(text, start)
        spans.append(span)
    [span] = spans
    assert span["name"] == "GET /hello/{name}"
    assert span["kind"] == "SpanKind.SERVER"
    assert span["context"]["trace_id"] == f"0x{TRACE_ID}"
    assert span["parent_id"] == "0x00f067aa0ba902b7"
    assert span["resource"]["attributes"]["service.name"] == "served-app"

    lines = [json.loads(line) for line in stderr.read_text().splitlines() if line.startswith("{")]
    [hello] = [line for line in lines if line.get("event") == "said_hello"]
    assert hello["trace_id"] == TRACE_ID
    assert f"0x{hello['span_id']}" == span["context"]["span_id"]
