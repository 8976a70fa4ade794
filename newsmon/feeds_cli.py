"""`newsmon feeds discover|add|export`: the source-list commands (logic in newsmon.sources).

Exit codes as for every command: 0 done, 2 bad config or arguments (one line naming file, key, value),
1 the warehouse or a file cannot be used, 3 no working feed was found at the address given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_NO_FEED = 3


def _fail(message: str, code: int) -> int:
    print(f"newsmon: {message}", file=sys.stderr)
    return code


def _discover(url: str, config_path: str | None) -> tuple[Any, int | None]:
    """(candidates, None) or (None, exit code) after printing why."""
    from core.errors import ConfigError, FetchError
    from core.settings import HttpPolicy
    from flows.http import HttpFetcher
    from flows.sources import discover_feeds
    from newsmon.config import load_config

    try:
        policy = load_config(Path(config_path)).network if config_path else HttpPolicy()
    except ConfigError as exc:
        return None, _fail(f"config error: {exc}", EXIT_CONFIG)
    with HttpFetcher(policy) as fetcher:
        try:
            return discover_feeds(fetcher, url), None
        except FetchError as error:
            hint = (
                " (a private address: allow it with network.allow_hosts and --config)"
                if error.kind == "refused"
                else ""
            )
            return None, _fail(f"{url}: cannot fetch it: {error.reason}{hint}", EXIT_NO_FEED)


def cmd_discover(args: argparse.Namespace) -> int:
    from newsmon.sources import format_candidates

    candidates, code = _discover(args.url, args.config)
    if code is not None:
        return code
    print(format_candidates(candidates))
    return EXIT_OK if any(c.error is None for c in candidates) else EXIT_NO_FEED


def cmd_add(args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from newsmon.sources import add_source, source_of

    candidates, code = _discover(args.url, args.config)
    if code is not None:
        return code
    working = [c for c in candidates if c.error is None]
    if args.pick:
        working = [c for c in working if c.url == args.pick]
    if len(working) != 1:
        from newsmon.sources import format_candidates

        print(format_candidates(candidates))
        problem = "no working feed there" if not working else f"{len(working)} feeds there: choose one with --pick URL"
        return _fail(f"{args.url}: {problem}", EXIT_NO_FEED if not working else EXIT_CONFIG)
    source = source_of(working[0], args.name, args.tag or ())
    try:
        added = add_source(Path(args.config), source)
    except ConfigError as exc:
        return _fail(f"config error: {exc}", EXIT_CONFIG)
    except OSError as exc:
        return _fail(f"{args.config}: cannot write: {exc}", EXIT_FAILED)
    key = "sitemap" if source.kind == "sitemap" else "url"
    print(
        f"{'added' if added else 'already configured'}: {key}: {source.url}"
        + (f" ({source.name})" if source.name else "")
    )
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from newsmon.config import load_config
    from newsmon.sources import export_opml

    try:
        config = load_config(Path(args.config))
    except ConfigError as exc:
        return _fail(f"config error: {exc}", EXIT_CONFIG)
    for note in config.source_notes:
        print(f"newsmon: note: {note}", file=sys.stderr)
    document = export_opml(config)
    if not args.out:
        sys.stdout.write(document.decode("utf-8"))
        return EXIT_OK
    try:
        Path(args.out).write_bytes(document)
    except OSError as exc:
        return _fail(f"{args.out}: cannot write: {exc}", EXIT_FAILED)
    print(f"{len(config.feeds)} sources written to {args.out}")
    return EXIT_OK


def add_feeds_commands(commands: Any) -> None:
    """Register `newsmon feeds …` on the top-level subparsers."""
    feeds = commands.add_parser("feeds", help="find, add and export sources (feeds, news sitemaps, OPML)")
    sub = feeds.add_subparsers(dest="feeds_command", required=True)
    discover = sub.add_parser("discover", help="find and check the feeds of a site or article address")
    discover.add_argument("url", help="a site's home page, an article, or a feed/sitemap address")
    discover.add_argument("--config", help="YAML config whose network settings to use (e.g. allow_hosts)")
    discover.set_defaults(handler=cmd_discover)
    add = sub.add_parser("add", help="add a site's feed (or a feed/sitemap URL) to the config, keeping its comments")
    add.add_argument("url", help="a site's home page, or a feed/sitemap address")
    add.add_argument("--config", required=True, help="YAML config file to edit")
    add.add_argument("--pick", help="which feed to add when the site has several (its URL)")
    add.add_argument("--name", help="name for the feed (default: its title)")
    add.add_argument("--tag", action="append", help="a tag for the feed's articles (repeatable)")
    add.set_defaults(handler=cmd_add)
    export = sub.add_parser("export", help="write the configured sources as OPML")
    export.add_argument("--config", required=True, help="YAML config file")
    export.add_argument("--format", choices=["opml"], default="opml", help="output format (opml)")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.set_defaults(handler=cmd_export)
