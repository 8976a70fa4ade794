"""Sources in the config: sitemap entries, tags, OPML files; `feeds add` keeps the file's comments; OPML export."""

from __future__ import annotations

import gzip
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from core.errors import ConfigError
from core.records import FeedCandidate
from extractors.opml import parse_opml
from newsmon.cli import main
from newsmon.config import load_config, parse_config
from newsmon.sources import NewSource, add_source, export_opml, format_candidates, source_of
from tests.conftest import DATA

OPML = DATA / "sources" / "opml"


def write(tmp_path: Path, text: str, name: str = "newsmon.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sitemap_entries_and_tags(tmp_path: Path) -> None:
    config = parse_config(
        "warehouse: w.duckdb\nfeeds:\n  - url: https://a.example/rss\n    tags: [CN Press, cn-press, Ｊａｐａｎ]\n"
        "  - sitemap: https://b.example/news-sitemap.xml\n    name: B\n",
        tmp_path / "c.yaml",
    )
    first, second = config.feeds
    assert (first.kind, first.tags) == ("feed", ("cn-press", "ｊａｐａｎ"))
    assert (second.kind, second.name, second.tags) == ("sitemap", "B", ())


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        ("  - url: https://a/\n    sitemap: https://a/s.xml\n", "feeds[0]: give url: (a feed) or sitemap:"),
        ("  - sitemap: ftp://a/s.xml\n", "feeds[0].sitemap:"),
        ("  - url: https://a/\n    tags: ['//']\n", "feeds[0].tags: a tag must have a letter or digit"),
        ("  - url: https://a/\n  - sitemap: https://A/\n", "feeds[1].sitemap: duplicate feed"),
    ],
)
def test_bad_sources_name_the_key(tmp_path: Path, feeds: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(f"warehouse: w.duckdb\nfeeds:\n{feeds}", tmp_path / "c.yaml")


def test_opml_file_adds_feeds_with_category_tags_and_config_entries_win(tmp_path: Path) -> None:
    shutil.copy(OPML / "netnewswire-subs.opml", tmp_path / "subs.opml")
    path = write(
        tmp_path,
        "warehouse: w.duckdb\n"
        "opml: [subs.opml]   # a reader export\n"
        "feeds:\n  - url: http://whatever.scalzi.com/feed/\n    name: Scalzi\n    tags: [sf]\n",
    )
    config = load_config(path)
    listed = parse_opml((OPML / "netnewswire-subs.opml").read_bytes()).feeds
    assert len(config.feeds) == len(listed)  # the config's own entry replaced its OPML twin
    scalzi = config.feeds[0]
    assert (scalzi.name, scalzi.tags) == ("Scalzi", ("sf", "writers"))  # config first, OPML category merged
    by_url = {feed.url: feed for feed in config.feeds}
    assert by_url["http://feeds.feedburner.com/alistapart/main"].tags == ("programming",)
    assert by_url["http://feeds.feedburner.com/alistapart/main"].name == "A List Apart: The Full Feed"


def test_what_an_opml_file_leaves_out_or_merges_is_noted(tmp_path: Path) -> None:
    shutil.copy(OPML / "netnewswire-subs.opml", tmp_path / "subs.opml")
    (tmp_path / "odd.opml").write_text(
        '<opml version="2.0"><body><outline text="local" type="rss" xmlUrl="file:///etc/passwd"/>'
        '<outline text="ok" type="rss" xmlUrl="https://ok.example/rss"/></body></opml>',
        encoding="utf-8",
    )
    config = load_config(write(tmp_path, "warehouse: w.duckdb\nopml: [subs.opml, odd.opml]\n"))
    assert config.source_notes == (
        "subs.opml: 1 duplicate outline(s) merged into the first (tags combined)",
        "odd.opml: skipped 'local': feed URL 'file:///etc/passwd' is not http or https",
    )
    assert "https://ok.example/rss" in {f.url for f in config.feeds}


def test_opml_alone_is_enough_and_a_single_path_is_accepted(tmp_path: Path) -> None:
    shutil.copy(OPML / "listparser" / "hier-2-nested.xml", tmp_path / "list.opml")
    config = load_config(write(tmp_path, "warehouse: w.duckdb\nopml: list.opml\n"))
    assert [(f.url, f.tags) for f in config.feeds] == [("http://domain/feed", ("grouping1", "grouping2"))]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (None, r"opml\[0\]: cannot read OPML file"),
        ("<html><body>not a list</body></html>", r"opml\[0\]: .*not an OPML subscription list"),
    ],
)
def test_bad_opml_files_name_the_key(tmp_path: Path, setup: str | None, message: str) -> None:
    if setup is not None:
        (tmp_path / "list.opml").write_text(setup, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, "warehouse: w.duckdb\nopml: [list.opml]\n"))


def test_alert_tags_are_normalized(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "warehouse: w.duckdb\nfeeds: [https://a.example/rss]\n"
        "alerts:\n  - name: r\n    tags: [CN Press]\n    notify: ['json://127.0.0.1:9/x']\n",
    )
    assert load_config(path).alerts[0].tags == ("cn-press",)


COMMENTED = """\
# Production sources: keep this comment.
warehouse: data/newsmon   # where the warehouse lives
network:
    allow_hosts: ["127.0.0.1"]   # quoted on purpose
feeds:
  # Chinese press
  - url: https://a.example/rss   # the main feed
    name: 'A'
    tags: [cn-press]
alerts: []   # none yet
"""


def test_add_keeps_comments_quotes_and_layout(tmp_path: Path) -> None:
    path = write(tmp_path, COMMENTED)
    added = add_source(path, NewSource("https://b.example/news-sitemap.xml", "sitemap", "B News", ("ja",)))
    text = path.read_text(encoding="utf-8")
    assert added
    assert text.startswith(COMMENTED.split("alerts:")[0])  # everything before the new entry is untouched
    assert "  - sitemap: https://b.example/news-sitemap.xml\n    name: B News\n    tags: [ja]\n" in text
    assert "alerts: []   # none yet" in text
    feeds = load_config(path).feeds
    assert [(f.kind, f.url, f.tags) for f in feeds][-1] == ("sitemap", "https://b.example/news-sitemap.xml", ("ja",))
    assert not add_source(path, NewSource("https://B.example/news-sitemap.xml", "feed"))  # already there
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    "feeds",
    [
        "feeds:\n- url: https://a.example/rss\n  name: A\n",
        "feeds:\n    -   url: https://a.example/rss\n        name: A\n",
    ],
)
def test_add_follows_the_files_indentation(tmp_path: Path, feeds: str) -> None:
    path = write(tmp_path, f"warehouse: w.duckdb\n{feeds}")
    add_source(path, NewSource("https://c.example/feed", "feed", "C"))
    text = path.read_text(encoding="utf-8")
    item_indent = feeds.splitlines()[1].split("url")[0]
    assert (
        text
        == f"warehouse: w.duckdb\n{feeds}{item_indent}url: https://c.example/feed\n"
        + " " * len(item_indent)
        + "name: C\n"
    )


def test_add_refuses_to_touch_an_invalid_config(tmp_path: Path) -> None:
    path = write(tmp_path, "warehouse: w.duckdb\nfeeds: [https://a.example/rss]\nbogus: 1\n")
    before = path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="bogus"):
        add_source(path, NewSource("https://c.example/feed", "feed"))
    assert path.read_text(encoding="utf-8") == before


def test_export_reads_back_as_the_same_sources(tmp_path: Path) -> None:
    shutil.copy(OPML / "netnewswire-subs.opml", tmp_path / "subs.opml")
    config = load_config(
        write(tmp_path, "warehouse: w.duckdb\nopml: subs.opml\nfeeds:\n  - sitemap: https://n.example/s.xml\n")
    )
    (tmp_path / "export.opml").write_bytes(export_opml(config))
    again = load_config(write(tmp_path, "warehouse: w.duckdb\nopml: export.opml\n", "again.yaml"))
    assert {(f.url, f.kind, f.tags) for f in again.feeds} == {(f.url, f.kind, f.tags) for f in config.feeds}


def test_discovery_table_and_source_choice() -> None:
    when = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    candidates = [
        FeedCandidate("https://a/gone", "", "atom", "link", error="HTTP 404"),
        FeedCandidate("https://a/rss.xml", "A Wire", "rss", "link", 12, when),
        FeedCandidate("https://a/news.xml", "", "sitemap", "self", 30, when),
    ]
    lines = format_candidates(candidates).splitlines()
    assert "https://a/rss.xml  (A Wire)" in lines[1] and "2026-11-30 09:00" in lines[1] and " 12 " in lines[1]
    assert lines[-1].endswith("FAILED: HTTP 404")
    assert source_of(candidates[2], None, ["Japan Press"]) == NewSource(
        "https://a/news.xml", "sitemap", "", ("japan-press",)
    )
    assert "no feed found" in format_candidates([])


def test_feeds_add_takes_a_sitemap_or_feed_address_itself(
    tmp_path: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sitemap = (DATA / "sources" / "sitemaps" / "google-news-example.xml").read_bytes()
    httpserver.expect_request("/news.xml.gz").respond_with_data(gzip.compress(sitemap))
    httpserver.expect_request("/feed.json").respond_with_data(
        (DATA / "sources" / "jsonfeed" / "feedparser-example.json").read_bytes()
    )
    path = write(tmp_path, 'warehouse: w.duckdb\nnetwork:\n  allow_hosts: ["127.0.0.1"]\n  retries: 0\nfeeds: []\n')
    assert main(["feeds", "add", httpserver.url_for("/news.xml.gz"), "--config", str(path), "--tag", "ja"]) == 0
    assert main(["feeds", "add", httpserver.url_for("/feed.json"), "--config", str(path)]) == 0
    assert main(["feeds", "add", httpserver.url_for("/feed.json"), "--config", str(path)]) == 0  # again: no-op
    assert "already configured" in capsys.readouterr().out
    empty = HTTPServer(host="127.0.0.1", port=0)
    empty.expect_request("/").respond_with_data("<html><body>no feeds, none at the usual paths</body></html>")
    empty.start()
    try:
        assert main(["feeds", "add", empty.url_for("/"), "--config", str(path)]) == 3
    finally:
        empty.stop()
    assert "no working feed there" in capsys.readouterr().err
    feeds = load_config(path).feeds
    assert [(f.kind, f.url, f.name, f.tags) for f in feeds] == [
        ("sitemap", httpserver.url_for("/news.xml.gz"), "The Example Times", ("ja",)),
        ("feed", httpserver.url_for("/feed.json"), "My Example Feed", ()),
    ]
