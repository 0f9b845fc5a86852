"""An OTLP/HTTP endpoint that accepts every export and keeps nothing: ``otlp_sink.py PORT``.

Bench apps that trace call ``start()`` to run it in a process of its own: the app pays
what it pays with a real collector (encoding, the HTTP request), no more.
"""

from __future__ import annotations

import atexit
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    """Reads the request body, answers 200 with an empty protobuf response."""

    def do_POST(self) -> None:
        """Accept an export."""
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""


def start() -> str:
    """Run a sink in a child process (stopped at exit) and return its base URL.

    Returns once the sink accepts connections. Call it before making the tracer
    provider: exit handlers run in reverse, so the provider's last export still
    finds the sink.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    sink = subprocess.Popen([sys.executable, __file__, str(port)])
    atexit.register(sink.terminate)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            if sink.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        else:
            return f"http://127.0.0.1:{port}"


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
