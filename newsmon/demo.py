"""`newsmon demo`: serve the bundled sample site on 127.0.0.1, run one pass, show what happened.

The sample site (newsmon/data/site, shipped in the package) is served by a small threaded HTTP server;
`{{BASE_URL}}` in its files is replaced by the server's address at request time, so feeds link to wherever
the server listens.
"""

from __future__ import annotations

import http.server
import json
import mimetypes
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from core.settings import WarehouseSettings
from core.words import count_of
from newsmon.resources import sample_site_dir
from storage.readmodels import EXAMPLE_QUERIES, show_queries

DEMO_DIR = Path("demo-output")
PLACEHOLDER = b"{{BASE_URL}}"
# Served with these content types (no charset: the pipeline must find the encoding itself).
_TYPES = {".xml": "application/rss+xml", ".atom": "application/atom+xml", ".html": "text/html"}


class SiteServer(http.server.ThreadingHTTPServer):
    """Serves a folder on 127.0.0.1; `{{BASE_URL}}` in files becomes this server's base URL."""

    daemon_threads = True

    def __init__(self, site: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _SiteHandler)
        self.site = site.resolve()
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"
        self.requested: list[str] = []  # paths served, in order (tests count fetches with it)


class _SiteHandler(http.server.BaseHTTPRequestHandler):
    server: SiteServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real web servers do

    def do_GET(self) -> None:
        site = self.server.site
        self.server.requested.append(self.path)
        path = (site / self.path.split("?", 1)[0].lstrip("/")).resolve()
        if path.is_dir():
            path = path / "index.html"  # the home page advertises the feeds (newsmon feeds discover)
        if not path.is_relative_to(site) or not path.is_file():
            self.send_error(404, "not found")
            return
        body = path.read_bytes().replace(PLACEHOLDER, self.server.base_url.encode("ascii"))
        self.send_response(200)
        kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class WebhookReceiver(http.server.ThreadingHTTPServer):
    """A local JSON webhook endpoint (what Apprise's json:// posts to); keeps every message it got."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.received: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.lock = threading.Lock()

    @property
    def apprise_url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/hooks/newsmon"


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.received.append(payload)
            self.server.headers_seen.append(dict(self.headers.items()))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def running(server: http.server.ThreadingHTTPServer) -> Iterator[None]:
    """Serve in a background thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, name="newsmon-demo-server", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_site(site: Path) -> Iterator[SiteServer]:
    """Serve `site` on 127.0.0.1 (a free port) for the duration of the block."""
    server = SiteServer(site)
    with running(server):
        yield server


def serve_sample_site(port: int) -> int:
    """`newsmon demo --serve`: keep the sample site up on 127.0.0.1 until Ctrl-C (for `newsmon feeds
    discover` and the sources walkthrough in the README)."""
    site = sample_site_dir()
    try:
        server = SiteServer(site, port)
    except OSError as exc:
        print(f"newsmon: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc} (try --port)", file=sys.stderr)
        return 1
    print(f"Serving the sample site {site} at {server.base_url}/ (home page, /news-sitemap.xml); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def demo_feeds(site: Path, base: str) -> list[dict[str, str]]:
    """Every feed document of the sample site, with the name from its file's first comment line."""
    return [{"url": f"{base}/feeds/{p.name}", "name": p.stem} for p in sorted((site / "feeds").iterdir())]


def write_demo_config(folder: Path, warehouse: Path, base: str, site: Path, webhook: str) -> Path:
    config = {
        "warehouse": str(warehouse.resolve()),
        "network": {"allow_hosts": ["127.0.0.1"], "retries": 0},
        "feeds": [
            *demo_feeds(site, base),
            {"url": f"{base}/feeds-moved/gone.xml", "name": "gone (404)"},
            {"sitemap": f"{base}/news-sitemap.xml", "name": "news sitemap", "tags": ["sitemap"]},
        ],
        "alerts": [
            {
                "name": "pdd-temu-pricing",
                "platforms": ["pinduoduo", "temu"],
                "topics": ["pricing", "cross-border"],
                "notify": [webhook],
            }
        ],
    }
    path = folder / "demo-config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _print_received(messages: list[dict[str, Any]]) -> None:
    print(f"\nThe local webhook receiver got {count_of(len(messages), 'alert message')}:")
    for message in messages:
        print(f"\n  {message.get('title', '')}")
        print("    " + str(message.get("message", "")).replace("\n", "\n    "))


def _print_queries(warehouse: Path, config_path: Path) -> None:
    settings = WarehouseSettings.embedded(warehouse)
    show_queries(settings, EXAMPLE_QUERIES)
    print(
        f"\nOpen the warehouse yourself (read-only; keep it open while passes run):\n"
        f"  newsmon sql --config {config_path}            # the DuckDB shell\n"
        f'  newsmon sql --config {config_path} "SELECT count(*) FROM articles_unique"\n'
        f"  Python: from newsmon.analysts import connect; con = connect('{config_path}')\n"
        f"  your own DuckDB 1.5.5: ATTACH '{settings.uri}' AS lake (READ_ONLY); USE lake;"
    )


def run_demo(warehouse: Path | None) -> int:
    from flows.monitor import summary_from_dict
    from newsmon.config import load_config
    from newsmon.flow import run_pass
    from newsmon.report import write_report
    from newsmon.summary import format_summary

    site = sample_site_dir()
    warehouse = (warehouse or DEMO_DIR / "newsmon").resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    receiver = WebhookReceiver()
    with serve_site(site) as server, running(receiver):
        base = server.base_url
        print(f"Serving the sample site {site} at {base}; alert webhook receiver at {receiver.apprise_url}")
        config_path = write_demo_config(warehouse.parent, warehouse, base, site, receiver.apprise_url)
        print(f"Config written to {config_path}; running one pass into {warehouse}\n")
        started = time.monotonic()
        config = load_config(config_path)
        result = run_pass(config, poll_all=True)
    print("\n" + format_summary(summary_from_dict(result), time.monotonic() - started))
    _print_received(receiver.received)
    _print_queries(warehouse, config_path)
    report = write_report(config, warehouse.parent / "report.html", days=30)
    print(f"\nReport with charts (open it in a browser; it needs no network): {report.resolve()}")
    return 0
