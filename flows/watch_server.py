"""The watcher's HTTP endpoint: WebSub callbacks (`/websub/<id>`), `GET /healthz` and `GET /metrics`.

stdlib `ThreadingHTTPServer` (one thread per request; the work per request is a dictionary lookup, an HMAC
and a queue put), bound to the configured address. Bodies need a Content-Length within the cap: a larger
one is refused with 413 before a byte of it is read.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flows.subscriber import Subscriptions

CALLBACK_PREFIX = "/websub/"


class WatchServer:
    """Start with `start()`, stop with `stop()`; `port` is the bound port (bind port 0 for a free one)."""

    def __init__(
        self,
        host: str,
        port: int,
        subscriptions: Subscriptions | None,
        health: Callable[[], tuple[bool, bool]],
        metrics: Callable[[], tuple[bytes, str]],
        max_body_bytes: int,
    ) -> None:
        handler = _handler(subscriptions, health, metrics, max_body_bytes)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="newsmon-watch-http", daemon=True)
        self._stopped = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Idempotent: stop serving and close the socket."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


def _handler(
    subscriptions: Subscriptions | None,
    health: Callable[[], tuple[bool, bool]],
    metrics: Callable[[], tuple[bytes, str]],
    max_body: int,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "newsmon-watch"

        def log_message(self, *args: Any) -> None:  # the watcher logs what matters itself
            pass

        def _send(self, status: int, body: bytes = b"", content_type: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            if parts.path == "/healthz":
                live, ready = health()
                status = 200 if live and ready else 503
                self._send(status, f"live={'yes' if live else 'no'} ready={'yes' if ready else 'no'}\n".encode())
            elif parts.path == "/metrics":
                body, content_type = metrics()
                self._send(200, body, content_type)
            elif parts.path.startswith(CALLBACK_PREFIX) and subscriptions is not None:
                params = dict(urllib.parse.parse_qsl(parts.query))
                answer = subscriptions.verify(parts.path[len(CALLBACK_PREFIX) :], params, datetime.now(UTC))
                self._send(answer.status, answer.body)
            else:
                self._send(404, b"not found\n")

        def do_POST(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if not path.startswith(CALLBACK_PREFIX) or subscriptions is None:
                self._send(404, b"not found\n")
                return
            declared = self.headers.get("Content-Length", "")
            if not declared.isdigit():
                self.close_connection = True
                self._send(411, b"Content-Length required\n")
                return
            if int(declared) > max_body:
                self.close_connection = True
                self._send(413, b"body too large\n")
                return
            body = self.rfile.read(int(declared))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = subscriptions.receive(path[len(CALLBACK_PREFIX) :], headers, body, datetime.now(UTC))
            self._send(status)

    return Handler
