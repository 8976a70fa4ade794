"""`newsmon demo`: serve the bundled sample site on 127.0.0.1, run one pass, show what happened.

The sample site (examples/site) is served by a small threaded HTTP server; `{{BASE_URL}}` in its files is
replaced by the server's address at request time, so feeds link to wherever the server listens.
"""

from __future__ import annotations

import http.server
import mimetypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import yaml

from newsmon.resources import sample_site_dir

DEMO_DIR = Path("demo-output")
PLACEHOLDER = b"{{BASE_URL}}"
# Served with these content types (no charset: the pipeline must find the encoding itself).
_TYPES = {".xml": "application/rss+xml", ".atom": "application/atom+xml", ".html": "text/html"}
EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "New articles per language and where their text came from",
        "SELECT language, text_source, count(*) AS articles FROM articles\nGROUP BY ALL ORDER BY articles DESC;",
    ),
    (
        "Which platforms were mentioned with which topics this week (originals only)",
        "SELECT platform, topic, count(*) AS articles\n"
        "FROM articles, unnest(platforms) AS p(platform), unnest(topics) AS t(topic)\n"
        "WHERE duplicate_of IS NULL AND fetched_at >= now() - INTERVAL 7 DAY\n"
        "GROUP BY ALL ORDER BY articles DESC, platform, topic LIMIT 12;",
    ),
    (
        "Feed health, failing feeds first",
        "SELECT coalesce(name, feed_url) AS feed, last_outcome, consecutive_failures, last_error\n"
        "FROM feeds ORDER BY consecutive_failures DESC, feed;",
    ),
)


class SiteServer(http.server.ThreadingHTTPServer):
    """Serves a folder on 127.0.0.1; `{{BASE_URL}}` in files becomes this server's base URL."""

    daemon_threads = True

    def __init__(self, site: Path) -> None:
        super().__init__(("127.0.0.1", 0), _SiteHandler)
        self.site = site.resolve()
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"
        self.requested: list[str] = []  # paths served, in order (tests count fetches with it)


class _SiteHandler(http.server.BaseHTTPRequestHandler):
    server: SiteServer

    def do_GET(self) -> None:
        site = self.server.site
        self.server.requested.append(self.path)
        path = (site / self.path.split("?", 1)[0].lstrip("/")).resolve()
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


@contextmanager
def serve_site(site: Path) -> Iterator[SiteServer]:
    """Serve `site` on 127.0.0.1 (a free port) for the duration of the block."""
    server = SiteServer(site)
    thread = threading.Thread(target=server.serve_forever, name="newsmon-demo-site", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def demo_feeds(site: Path, base: str) -> list[dict[str, str]]:
    """Every feed document of the sample site, with the name from its file's first comment line."""
    return [{"url": f"{base}/feeds/{p.name}", "name": p.stem} for p in sorted((site / "feeds").iterdir())]


def write_demo_config(folder: Path, warehouse: Path, base: str, site: Path) -> Path:
    config = {
        "warehouse": str(warehouse.resolve()),
        "network": {"allow_hosts": ["127.0.0.1"], "retries": 0},
        "feeds": [*demo_feeds(site, base), {"url": f"{base}/feeds-moved/gone.xml", "name": "gone (404)"}],
    }
    path = folder / "demo-config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _print_queries(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for title, sql in EXAMPLE_QUERIES:
            print(f"\n-- {title}\n{sql}")
            con.sql(sql).show(max_width=110)
    finally:
        con.close()
    print(
        f"\nOpen the warehouse yourself:  duckdb -readonly {warehouse}\n"
        "  (or in Python: duckdb.connect(path, read_only=True); close it before the next pass writes)"
    )


def run_demo(warehouse: Path | None) -> int:
    from flows.monitor import monitor_pass, summary_from_dict
    from newsmon.summary import format_summary

    site = sample_site_dir()
    warehouse = (warehouse or DEMO_DIR / "newsmon.duckdb").resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with serve_site(site) as server:
        base = server.base_url
        print(f"Serving the sample site {site} at {base}")
        config_path = write_demo_config(warehouse.parent, warehouse, base, site)
        print(f"Config written to {config_path}; running one pass into {warehouse}\n")
        started = time.monotonic()
        result = monitor_pass(str(config_path), poll_all=True)
    print("\n" + format_summary(summary_from_dict(result), time.monotonic() - started))
    _print_queries(warehouse)
    return 0
