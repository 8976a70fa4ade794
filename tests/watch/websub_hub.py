"""A real WebSub hub for tests, run as its own process on 127.0.0.1 (stdlib only).

    python websub_hub.py [--max-lease SECONDS] [--sign sha256|sha1|sha512]

Prints `PORT <n>` once it listens. Hub endpoint: `POST /` (hub.mode, hub.topic, hub.callback, hub.secret,
hub.lease_seconds) answers 202 and then verifies the intent with a GET to the callback carrying a random
challenge, as the W3C recommendation says; only an echoed challenge makes (or removes) a subscription.
Leases are capped at --max-lease and expire: an expired subscription gets nothing.
Test controls: `POST /publish` (topic=…, [bad_signature=1], [sign=sha1]) fetches the topic and delivers it
to every live subscriber, answering JSON [{callback, status}]; `POST /deny` (topic, callback) sends
hub.mode=denied; `GET /subscriptions` lists live subscriptions as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Hub:
    def __init__(self, max_lease: int, method: str) -> None:
        self.max_lease = max_lease
        self.method = method
        self.lock = threading.Lock()
        # (topic, callback) -> {secret, expires}
        self.subscriptions: dict[tuple[str, str], dict[str, Any]] = {}
        self.base = ""

    def live(self, topic: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        now = time.time()
        with self.lock:
            return [(t, c, s) for (t, c), s in self.subscriptions.items() if s["expires"] > now and topic in (None, t)]

    def verify(self, mode: str, topic: str, callback: str, secret: str, lease: int) -> None:
        challenge = secrets.token_urlsafe(16)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(lease)
        separator = "&" if "?" in callback else "?"
        try:
            with urllib.request.urlopen(callback + separator + urllib.parse.urlencode(query), timeout=10) as answer:
                echoed = answer.read().decode("utf-8", "replace")
                ok = answer.status // 100 == 2 and echoed == challenge
        except (urllib.error.URLError, OSError):
            ok = False
        if not ok:
            return
        with self.lock:
            if mode == "subscribe":
                self.subscriptions[(topic, callback)] = {"secret": secret, "expires": time.time() + lease}
            else:
                self.subscriptions.pop((topic, callback), None)

    def publish(self, topic: str, bad_signature: bool, method: str) -> list[dict[str, Any]]:
        with urllib.request.urlopen(topic, timeout=10) as response:
            body = response.read()
            content_type = response.headers.get("Content-Type", "application/xml")
        results = []
        for _, callback, sub in self.live(topic):
            secret = sub["secret"] + ("-wrong" if bad_signature else "")
            digest = hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()
            request = urllib.request.Request(callback, data=body, method="POST")
            request.add_header("Content-Type", content_type)
            request.add_header("X-Hub-Signature", f"{method}={digest}")
            request.add_header("Link", f'<{self.base}/>; rel="hub", <{topic}>; rel="self"')
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (urllib.error.URLError, OSError):
                status = 0
            if status == 410:
                with self.lock:
                    self.subscriptions.pop((topic, callback), None)
            results.append({"callback": callback, "status": status})
        return results


def handler_for(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            return dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))

        def _send(self, status: int, payload: Any = None) -> None:
            body = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/subscriptions":
                live = [{"topic": t, "callback": c, "expires": s["expires"]} for t, c, s in hub.live()]
                self._send(200, live)
            else:
                self._send(404)

        def do_POST(self) -> None:
            form = self._form()
            if self.path == "/publish":
                method = form.get("sign", hub.method)
                self._send(200, hub.publish(form["topic"], form.get("bad_signature") == "1", method))
            elif self.path == "/deny":
                query = urllib.parse.urlencode({"hub.mode": "denied", "hub.topic": form["topic"], "hub.reason": "test"})
                with urllib.request.urlopen(form["callback"] + "?" + query, timeout=10):
                    pass
                self._send(200, [])
            elif self.path == "/":
                self._subscribe(form)
            else:
                self._send(404)

        def _subscribe(self, form: dict[str, str]) -> None:
            mode, topic, callback = form.get("hub.mode"), form.get("hub.topic"), form.get("hub.callback")
            if mode not in ("subscribe", "unsubscribe") or not topic or not callback:
                self._send(400, {"error": "hub.mode, hub.topic and hub.callback are required"})
                return
            asked = int(form.get("hub.lease_seconds") or hub.max_lease)
            lease = max(1, min(asked, hub.max_lease))
            self._send(202)
            args = (mode, topic, callback, form.get("hub.secret", ""), lease)
            threading.Thread(target=hub.verify, args=args, daemon=True).start()

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-lease", type=int, default=86400)
    parser.add_argument("--sign", default="sha256")
    args = parser.parse_args()
    hub = Hub(args.max_lease, args.sign)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(hub))
    hub.base = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
