"""Issue 11, class 8 (agent side): the webhook's HTTP edge, driven with raw sockets.

The webhook accepted 64 MB past its 5 MB cap with `Content-Length: -1`; a non-ASCII signature
header or `Content-Length: abc` crashed the handler. The cap now holds whatever the headers say
(negative, missing, chunked) and malformed requests get 400."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from updater.agent.server import _MAX_BODY, AgentServer, Metrics

SECRET = "hook-secret-1234"


@pytest.fixture()
def server() -> Iterator[tuple[AgentServer, threading.Event]]:
    triggered = threading.Event()
    served = AgentServer("127.0.0.1:0", Metrics("prod"), on_webhook=triggered.set, webhook_secret=SECRET).start()
    try:
        yield served, triggered
    finally:
        served.stop()


def exchange(server: AgentServer, head: bytes, body: bytes = b"", *, timeout: float = 20) -> bytes:
    """Send a raw request (head without the final blank line) and read until the server closes or
    answers in full."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(head + b"\r\n\r\n")
        try:
            conn.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed without reading it all: what we want
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # already closed by the server
        chunks = []
        try:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, OSError):
            pass
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


def post(length_header: bytes | None, extra: bytes = b"") -> bytes:
    head = b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Gitlab-Token: wrong"
    if length_header is not None:
        head += b"\r\nContent-Length: " + length_header
    return head + extra


def signature(body: bytes) -> bytes:
    return b"sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().encode()


def test_a_negative_content_length_is_400_and_the_cap_holds(server: tuple[AgentServer, threading.Event]) -> None:
    served, triggered = server
    response = exchange(served, post(b"-1"), b"x" * (_MAX_BODY + 1024 * 1024))
    assert status_of(response) == 400
    assert not triggered.is_set()


@pytest.mark.parametrize("value", [b"abc", b"1e3", b"+5", b"5, 5", b"\xd9\xa3", b""])
def test_a_malformed_content_length_is_400(server: tuple[AgentServer, threading.Event], value: bytes) -> None:
    assert status_of(exchange(server[0], post(value), b"{}")) == 400


def test_an_oversized_content_length_is_413(server: tuple[AgentServer, threading.Event]) -> None:
    assert status_of(exchange(server[0], post(str(_MAX_BODY + 1).encode()), b"x" * 1024)) == 413


def test_a_chunked_body_over_the_cap_is_413(server: tuple[AgentServer, threading.Event]) -> None:
    chunk = b"x" * (1024 * 1024)
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(6)) + b"0\r\n\r\n"
    response = exchange(server[0], post(None, b"\r\nTransfer-Encoding: chunked"), body)
    assert status_of(response) == 413


def test_a_signed_chunked_body_is_read_in_full(server: tuple[AgentServer, threading.Event]) -> None:
    served, triggered = server
    payload = b'{"ref": "refs/heads/main"}'
    body = b"%x\r\n" % 10 + payload[:10] + b"\r\n" + b"%x\r\n" % (len(payload) - 10) + payload[10:] + b"\r\n0\r\n\r\n"
    head = (b"POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Hub-Signature-256: "
            + signature(payload))
    assert status_of(exchange(served, head, body)) == 202
    assert triggered.is_set()


@pytest.mark.parametrize("body", [b"zz\r\nxx\r\n0\r\n\r\n", b"5\r\nabc", b"3\r\nabcdef\r\n0\r\n\r\n"])
def test_a_broken_chunked_body_is_400(server: tuple[AgentServer, threading.Event], body: bytes) -> None:
    assert status_of(exchange(server[0], post(None, b"\r\nTransfer-Encoding: chunked"), body)) == 400


def test_length_and_chunking_together_is_400(server: tuple[AgentServer, threading.Event]) -> None:
    response = exchange(server[0], post(b"3", b"\r\nTransfer-Encoding: chunked"), b"0\r\n\r\n")
    assert status_of(response) == 400


@pytest.mark.parametrize("header", [b"X-Hub-Signature-256: sha256=\xff\xfe\xe9", b"X-Gitlab-Token: t\xc3\xa9st\xff"])
def test_a_non_ascii_signature_is_401_not_a_crash(server: tuple[AgentServer, threading.Event], header: bytes) -> None:
    served, triggered = server
    head = b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n" + header
    assert status_of(exchange(served, head, b"{}")) == 401
    assert not triggered.is_set()


def test_no_length_means_no_body(server: tuple[AgentServer, threading.Event]) -> None:
    assert status_of(exchange(server[0], post(None))) == 401  # empty body, wrong token


def test_the_server_keeps_serving_after_hostile_requests(server: tuple[AgentServer, threading.Event]) -> None:
    served, triggered = server
    for head in (post(b"abc"), post(b"-1"), b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: \xff"):
        exchange(served, head, b"{}")
    payload = b"{}"
    response = requests.post(f"{served.url}/webhook", data=payload,
                             headers={"X-Hub-Signature-256": signature(payload).decode()}, timeout=10)
    assert response.status_code == 202 and triggered.is_set()
    assert requests.get(f"{served.url}/healthz", timeout=10).status_code == 200
