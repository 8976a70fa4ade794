"""Stories end to end: real Prefect passes over a loopback site carrying one event in five languages, the
warehouse's stories, and `per: story` alerts delivered through Apprise to a real local webhook receiver."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsmon.config import load_config
from newsmon.demo import SiteServer, WebhookReceiver, running, serve_site
from newsmon.flow import monitor_pass
from newsmon.report import write_report
from storage.warehouse import Warehouse
from tests import helpers
from tests.helpers import WAREHOUSE, query

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]
DATA = Path(__file__).resolve().parents[1] / "data" / "stories" / "handwritten.yaml"
EVENTS = ("pdd-2024q3", "pdd-2024q2", "temu-eu-dsa", "temu-vietnam")


def _articles() -> list[dict[str, Any]]:
    items = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return [a for a in items if a["event"] in EVENTS]


def _page(article: dict[str, Any]) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article["text"].split("\n") if p.strip())
    title = html.escape(article["title"])
    return (
        f'<!DOCTYPE html><html lang="{article["lang"]}"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="article:published_time" content="{article["published"].isoformat()}"></head>'
        f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def _item(article: dict[str, Any], path: str) -> str:
    return (
        f"<item><title>{html.escape(article['title'])}</title><link>{{{{BASE_URL}}}}/{path}</link>"
        f'<guid isPermaLink="false">{path}</guid><pubDate>{format_datetime(article["published"])}</pubDate>'
        f"<description>{html.escape(article['text'])}</description></item>"
    )


def write_site(site: Path, articles: list[dict[str, Any]], copies: Sequence[dict[str, Any]] = ()) -> None:
    """One RSS feed per language with these articles; `copies` appear again, byte-identical, in a
    'syndication' feed under another URL."""
    (site / "articles").mkdir(parents=True, exist_ok=True)
    (site / "feeds").mkdir(exist_ok=True)
    feeds: dict[str, list[str]] = {}
    for article in articles:
        path = f"articles/{article['id']}.html"
        (site / path).write_text(_page(article), encoding="utf-8")
        feeds.setdefault(article["lang"], []).append(_item(article, path))
    for article in copies:
        path = f"articles/copy-{article['id']}.html"
        (site / path).write_text(_page(article), encoding="utf-8")
        feeds.setdefault("syndication", []).append(_item(article, path))
    for name, items in feeds.items():
        body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>'
        (site / "feeds" / f"{name}.xml").write_text(body + "".join(items) + "</channel></rss>", encoding="utf-8")


def feeds_of(site: Path, server: SiteServer) -> list[dict[str, str]]:
    return [{"url": f"{server.base_url}/feeds/{p.name}", "name": p.stem} for p in sorted((site / "feeds").iterdir())]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    with running(server):
        yield server


def story_of(tmp_path: Path) -> dict[str, str]:
    return {
        url.rsplit("/", 1)[-1].removesuffix(".html"): story
        for url, story in query(tmp_path, "SELECT canonical_url, story_id FROM articles")
    }


def test_one_story_per_event_in_every_language_stable_across_passes(tmp_path: Path) -> None:
    site = tmp_path / "site"
    articles = _articles()
    first_round = [a for a in articles if not a["id"].endswith("-2")]
    write_site(site, first_round, copies=[first_round[0]])
    with serve_site(site) as server:
        config = helpers.write_config(tmp_path, feeds_of(site, server))
        monitor_pass(str(config))
        stories = story_of(tmp_path)
        event = {a["id"]: a["event"] for a in articles}
        for one in event:
            for other in event:
                if one in stories and other in stories:
                    assert (stories[one] == stories[other]) == (event[one] == event[other]), (one, other)
        copy = f"copy-{first_round[0]['id']}"
        assert stories[copy] == stories[first_round[0]["id"]]
        pair = f"SELECT count(*) FILTER (duplicate_of IS NOT NULL) FROM articles WHERE story_id = '{stories[copy]}'"
        assert query(tmp_path, pair) == [(1,)]  # one of the two byte-identical pages is the other's duplicate
        # a second round: the follow-up articles join the stories founded in the first pass
        write_site(site, articles, copies=[first_round[0]])
        monitor_pass(str(config), poll_all=True)
    after = story_of(tmp_path)
    assert {k: v for k, v in after.items() if k in stories} == stories
    assert after["pdd24q3-en-2"] == stories["pdd24q3-zhcn-1"]
    rows = query(
        tmp_path,
        "SELECT story_id, article_count, source_count, languages, title, first_url FROM stories ORDER BY story_id",
    )
    assert len(rows) == len(EVENTS)
    pdd_q3 = next(r for r in rows if r[0] == stories["pdd24q3-zhcn-1"])
    assert pdd_q3[1] == 7 and set(pdd_q3[3]) == {"en", "ja", "ko", "zh-cn", "zh-tw"}
    assert pdd_q3[4] == "拼多多第三季度营收993.5亿元 同比增长44% 低于市场预期"  # the earliest article's title
    report = write_report(load_config(config), tmp_path / "report.html", days=5000).read_text(encoding="utf-8")
    section = report[report.index("<h2>Top stories</h2>") :].split("<h2>", 2)[1]
    assert f'<a href="{pdd_q3[5]}"' in section and f">{pdd_q3[4]}</a>" in section
    assert "en, ja, ko, zh-cn, zh-tw" in section
    top = query(tmp_path, "SELECT day, rank, story_id, languages FROM top_stories_daily WHERE rank = 1 ORDER BY day")
    assert {r[2] for r in top} <= set(after.values()) and len(top) >= 3


def test_per_story_rule_notifies_once_when_a_story_breaks_and_groups_updates(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    site = tmp_path / "site"
    articles = [a for a in _articles() if a["event"] in ("pdd-2024q3", "temu-eu-dsa")]
    early = [a for a in articles if a["id"].endswith("-1") and a["lang"] in ("zh-cn", "en")]
    write_site(site, early)
    rules = [
        {"name": "pdd-stories", "platforms": ["pinduoduo", "temu"], "per": "story", "story_updates": 60,
         "notify": [receiver.apprise_url]},
        {"name": "pdd-articles", "platforms": ["pinduoduo", "temu"], "notify": [receiver.apprise_url]},
    ]  # fmt: skip
    with serve_site(site) as server:
        config = helpers.write_config(tmp_path, feeds_of(site, server), alerts=rules)
        monitor_pass(str(config))
        stories = [m for m in receiver.received if m["title"].startswith("[newsmon] pdd-stories")]
        per_article = [m for m in receiver.received if m["title"].startswith("[newsmon] pdd-articles")]
        assert len(stories) == 1 and stories[0]["title"] == "[newsmon] pdd-stories: 2 new stories"
        assert len(per_article) == 1 and per_article[0]["title"] == f"[newsmon] pdd-articles: {len(early)} new articles"
        # more articles of the same two stories: updates, but the last message left less than 60 minutes ago
        write_site(site, articles)  # new feeds (ja, ko, zh-tw) too
        config = helpers.write_config(tmp_path, feeds_of(site, server), alerts=rules)
        monitor_pass(str(config), poll_all=True)
        assert not [m for m in receiver.received[2:] if m["title"].startswith("[newsmon] pdd-stories")]
        waiting = query(
            tmp_path, "SELECT count(*) FROM notifications WHERE rule = 'pdd-stories' AND status = 'pending'"
        )
        assert waiting == [(len(articles) - len(early),)]
        # an hour later (the sent time moved back, as if the hour had passed): one update message per story
        shift = "UPDATE notifications SET sent_at = sent_at - INTERVAL 61 MINUTE WHERE rule = 'pdd-stories'"
        _write(tmp_path, shift)
        count = len(receiver.received)
        monitor_pass(str(config))
    updates = [m for m in receiver.received[count:] if m["title"].startswith("[newsmon] pdd-stories")]
    assert sorted(m["title"].split(": update to")[0] for m in updates) == ["[newsmon] pdd-stories"] * 2
    assert query(tmp_path, "SELECT count(*) FROM notifications WHERE status = 'pending'") == [(0,)]
    sent = query(tmp_path, "SELECT kind, count(*) FROM notifications WHERE rule = 'pdd-stories' GROUP BY kind")
    assert dict(sent) == {"story": 2, "update": len(articles) - 2}


def _write(folder: Path, sql: str) -> None:
    warehouse = Warehouse(folder / WAREHOUSE)
    try:
        with warehouse.transaction() as con:
            con.execute(sql)
    finally:
        warehouse.close()
