"""Notification redirects and private addresses (class 10 of issue 16): the operator-written notify URL is
trusted, but a redirect from it may lead into private address space only where `network.allow_hosts` allows
(the same rule as for links). Real receivers on loopback addresses; 127.0.0.2 stands for 'some other private
host' (Linux routes all of 127/8 to loopback)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts.messages import digest
from core.records import DigestItem
from flows.netguard import HostAllowList
from flows.notify import send

MESSAGE = digest("rule", [DigestItem("a1", "Title", "https://ex.com/a", "src", "en", (), ())])


@contextmanager
def receiver(host: str, redirect_to: str | None = None) -> Iterator[tuple[str, list[bytes]]]:
    """A webhook receiver on host:port; with `redirect_to` it answers 307 to that URL instead."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            if redirect_to:
                self.send_response(307)
                self.send_header("Location", redirect_to)
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{host}:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_redirect_into_private_space_is_refused() -> None:
    with receiver("127.0.0.2") as (private, reached), receiver("127.0.0.1", f"http://{private}/hook") as (hook, _):
        error = send(f"json://{hook}/hook", MESSAGE, 5, HostAllowList(()))
    assert reached == [], "the private address behind the redirect must not be contacted"
    assert error is not None and "127.0.0.2" in error and "allow_hosts" in error


def test_a_redirect_into_an_allowed_private_host_is_followed() -> None:
    with receiver("127.0.0.2") as (private, reached), receiver("127.0.0.1", f"http://{private}/hook") as (hook, _):
        error = send(f"json://{hook}/hook", MESSAGE, 5, HostAllowList(("127.0.0.2",)))
    assert error is None and len(reached) == 1


@pytest.mark.parametrize("allow", [(), ("127.0.0.1",)])
def test_the_configured_private_receiver_itself_is_trusted(allow: tuple[str, ...]) -> None:
    with receiver("127.0.0.1") as (hook, reached):
        error = send(f"json://{hook}/hook", MESSAGE, 5, HostAllowList(allow))
    assert error is None and len(reached) == 1
