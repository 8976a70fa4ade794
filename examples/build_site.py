"""Render examples/site-src/articles.yaml into the demo site under newsmon/data/site/ (package data).

Run `python examples/build_site.py` after editing the articles; the output is committed so `make demo`
needs nothing but the repository. `{{BASE_URL}}` is filled in by the demo server at request time.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SITE = HERE.parent / "newsmon" / "data" / "site"
SEEDS = HERE.parent / "seeds"
BASE = "{{BASE_URL}}"
SITE_NAMES = {
    "ja": "ECウォッチ",
    "en": "Asia Commerce Daily",
    "ko": "커머스 인사이트",
    "zh-cn": "零售观察",
    "zh-tw": "電商前線",
}
NAV = {
    "ja": ["ホーム", "EC", "物流", "テック", "ログイン"],
    "en": ["Home", "Retail", "Tech", "Markets", "Sign in"],
    "ko": ["홈", "유통", "테크", "로그인"],
    "zh-cn": ["首页", "电商", "物流", "科技", "登录"],
    "zh-tw": ["首頁", "電商", "物流", "科技", "登入"],
}
RELATED = {"ja": "関連記事", "en": "Related stories", "ko": "관련 기사", "zh-cn": "相关阅读", "zh-tw": "相關文章"}
# Sidebar teasers mention other platforms on purpose: they are page chrome, not the article.
SIDEBAR = {
    "ja": ["メルカリ、フリマ手数料を改定", "楽天市場のポイント還元が縮小", "Amazonプライム感謝祭の売れ筋"],
    "en": ["Shopee posts first annual profit", "Walmart expands drone delivery", "Meituan's Keeta enters Brazil"],
    "ko": ["네이버 쇼핑 라이브 개편", "쿠팡이츠 수수료 논란", "지마켓 신세계 합작법인 출범"],
    "zh-cn": ["快手电商发布年度报告", "唯品会第三季度业绩", "得物推出鉴定新服务"],
    "zh-tw": ["momo購物網年營收創高", "PChome改組董事會", "酷澎台灣擴大倉儲"],
}
FEEDS = {
    "asia-commerce": {"title": "Asia Commerce Wire", "kind": "rss", "encoding": "utf-8", "lang": "en"},
    "china-retail": {"title": "零售观察", "kind": "atom", "encoding": "utf-8", "lang": "zh-cn"},
    "taiwan-ec": {"title": "電商前線", "kind": "rss", "encoding": "big5", "lang": "zh-tw"},
}


def _sentences(text: str) -> list[str]:
    return [s + "。" for s in text.split("。") if s.strip()]


def paragraphs_of(article: dict[str, Any]) -> list[str]:
    """The article's paragraphs; a republished seed is copied whole, as an excerpt, or lightly edited."""
    if "republish_seed" not in article:
        return list(article.get("paragraphs", []))
    raw = (SEEDS / f"{article['republish_seed']}.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    mode = article.get("mode", "whole")
    if mode == "excerpt":
        sentences = _sentences(" ".join(lines))
        return [*sentences[: len(sentences) * 2 // 3], "続きを読む"]
    if mode == "edited":
        kept = [line for line in lines[1:] if not line.startswith("- ")]
        return ["編集部注：本稿は読者の要望により再掲載するものです。", *kept]
    return lines[1:]


def render_page(article: dict[str, Any], others: list[dict[str, Any]]) -> str:
    lang = article["lang"]
    site = SITE_NAMES[lang]
    title = html.escape(article["title"])
    nav = " | ".join(f'<a href="/{i}">{html.escape(n)}</a>' for i, n in enumerate(NAV[lang]))
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs_of(article))
    related = "\n".join(
        f'<li><a href="{BASE}/articles/{o["id"]}.html">{html.escape(o["title"])}</a></li>' for o in others[:3]
    )
    sidebar = "\n".join(f'<li><a href="/rank/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(SIDEBAR[lang]))
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title} | {site}</title>
<meta property="og:site_name" content="{site}">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{article["date"]}">
<link rel="canonical" href="{BASE}/articles/{article["id"]}.html">
</head>
<body>
<header class="site-header"><div class="logo">{site}</div><nav class="global-nav">{nav}</nav></header>
<div class="container">
<main>
<article class="article">
<h1 class="article-title">{title}</h1>
<p class="meta"><time datetime="{article["date"]}">{article["date"][:10]}</time></p>
<div class="article-body">
{body}
</div>
<div class="share-buttons"><a href="#">Share</a> <a href="#">Tweet</a> <a href="#">LINE</a></div>
</article>
<section class="related-articles"><h2>{RELATED[lang]}</h2><ul>
{related}
</ul></section>
</main>
<aside class="sidebar"><h3>Ranking</h3><ol>
{sidebar}
</ol><div class="ad">PR</div></aside>
</div>
<footer class="site-footer"><p>© 2026 {site}. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> · <a href="/terms">Terms</a></p></footer>
</body>
</html>
"""


def _summary(article: dict[str, Any]) -> str:
    return str(article.get("summary") or paragraphs_of(article)[0])


def _link(article: dict[str, Any]) -> str:
    folder = "articles" if article.get("page", True) else "missing"
    return f"{BASE}/{folder}/{article['id']}.html"


def render_rss(feed: dict[str, Any], articles: list[dict[str, Any]], extra_items: str = "") -> str:
    items = "\n".join(
        f"""<item>
  <title>{html.escape(a["title"])}</title>
  <link>{_link(a)}?utm_source=rss&amp;utm_medium=feed</link>
  <guid isPermaLink="false">{a["id"]}</guid>
  <pubDate>{format_datetime(datetime.fromisoformat(a["date"]))}</pubDate>
  <description>{html.escape(_summary(a))}</description>
</item>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="{feed["encoding"]}"?>
<rss version="2.0">
<channel>
<title>{html.escape(feed["title"])}</title>
<link>{BASE}/</link>
<description>{html.escape(feed["title"])}</description>
<language>{feed["lang"]}</language>
<ttl>60</ttl>
{items}
{extra_items}
</channel>
</rss>
"""


def render_atom(feed: dict[str, Any], articles: list[dict[str, Any]]) -> str:
    entries = "\n".join(
        f"""<entry>
  <title>{html.escape(a["title"])}</title>
  <link rel="alternate" href="{_link(a)}"/>
  <id>urn:newsmon-demo:{a["id"]}</id>
  <updated>{a["date"]}</updated>
  <summary type="html">{html.escape("<p>" + html.escape(_summary(a)) + "</p>")}</summary>
</entry>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{feed["lang"]}">
<title>{html.escape(feed["title"])}</title>
<id>urn:newsmon-demo:{feed["title"]}</id>
<updated>2026-11-18T00:00:00Z</updated>
{entries}
</feed>
"""


# An entry pointing at a loopback address that is not allow-listed: the SSRF guard refuses it.
REFUSED_ITEM = """<item>
  <title>Internal admin page (a link the private-address guard must refuse)</title>
  <link>http://[::1]:9/internal/admin</link>
  <description>A hostile or mistaken feed can link anywhere; newsmon does not fetch private addresses.</description>
</item>"""

BROKEN_FEED = """<!DOCTYPE html>
<html><head><title>Feed moved</title></head>
<body><h1>We have redesigned our website!</h1><p>Our news feed now lives elsewhere.</p></body></html>
"""


def main() -> None:
    articles = yaml.safe_load((HERE / "site-src" / "articles.yaml").read_text(encoding="utf-8"))
    by_feed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    (SITE / "articles").mkdir(parents=True, exist_ok=True)
    (SITE / "feeds").mkdir(parents=True, exist_ok=True)
    for article in articles:
        article["date"] = str(article["date"]).replace(" ", "T")  # YAML reads timestamps as datetimes
        by_feed[article["feed"]].append(article)
    for article in articles:
        if article.get("page", True):
            others = [a for a in by_feed[article["feed"]] if a["id"] != article["id"]]
            (SITE / "articles" / f"{article['id']}.html").write_text(render_page(article, others), encoding="utf-8")
    for name, feed in FEEDS.items():
        if feed["kind"] == "atom":
            text, suffix = render_atom(feed, by_feed[name]), ".atom"
        else:
            extra = REFUSED_ITEM if name == "asia-commerce" else ""
            text, suffix = render_rss(feed, by_feed[name], extra), ".xml"
        (SITE / "feeds" / f"{name}{suffix}").write_bytes(text.encode(feed["encoding"]))
    (SITE / "feeds" / "broken.xml").write_text(BROKEN_FEED, encoding="utf-8")
    print(f"wrote {len(articles)} articles and {len(FEEDS) + 1} feeds to {SITE}")


if __name__ == "__main__":
    main()
