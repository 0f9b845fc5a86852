"""The stack behind a real uvicorn server, spoken to over real sockets."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from fastapi_kit import Kit, KitSettings
from helpers import served_in_thread

LIMIT = 64 * 1024


def make_app() -> FastAPI:
    app = Kit(KitSettings(max_body_size=LIMIT)).install(FastAPI(), logging=False)

    @app.post("/echo")
    async def echo(payload: dict[str, str]) -> dict[str, str]:
        return payload

    return app


@pytest.fixture(scope="module")
def server_port() -> Iterator[int]:
    with served_in_thread(make_app()) as port:
        yield port


def read_response(sock: socket.socket) -> bytes:
    """Read until the server closes the connection (or resets it after answering)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def test_real_http_response_carries_the_contract_headers(server_port: int) -> None:
    response = httpx.get(f"http://127.0.0.1:{server_port}/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_declared_oversized_body_is_refused_before_it_is_sent(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        # Headers only: the 10 MB body is never sent, yet the answer comes.
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10485760\r\n\r\n"
        )
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in response.lower()
    assert b'"code":"payload_too_large"' in response


def test_endless_chunked_upload_is_cut_off(server_port: int) -> None:
    chunk = b"%x\r\n%s\r\n" % (4096, b"a" * 4096)
    sent = 0
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        # Send until the server answers; a server that read it all would never answer.
        while not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            assert sent < 256 * 1024 * 1024, "the server kept reading"
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in response.lower()
    assert b"application/problem+json" in response
