"""How big the HTML report gets: a synthetic warehouse of N articles over D days (platforms, topics,
languages, copies, feeds drawn with a fixed seed), rendered by `newsmon report`'s code for 1, 30 and 90
days. Prints bytes per report and per part; `--screenshot DIR` also renders each in headless Chromium.

    python bench/report_size.py --articles 20000 --days 90 --screenshot /tmp/shots
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.records import Article
from core.settings import Config, FeedConfig, HttpPolicy, PipelineSettings, PollingPolicy
from newsmon.report import collect, render
from storage import warehouse as wh
from storage.warehouse import Warehouse

PLATFORMS = ("taobao", "temu", "shein", "pinduoduo", "jd", "tiktok", "amazon", "aliexpress", "shopee", "douyin")
TOPICS = ("pricing", "logistics", "ai", "regulation", "earnings", "cross-border", "livestreaming")
LANGUAGES = ("zh-cn", "ja", "en", "ko", "zh-tw")


def _articles(count: int, days: int, feeds: int, now: datetime) -> list[Article]:
    rng = random.Random(7)
    articles: list[Article] = []
    for n in range(count):
        ident = f"{n:016x}"
        copy_of = articles[rng.randrange(len(articles))].article_id if articles and rng.random() < 0.2 else None
        articles.append(
            Article(
                article_id=ident,
                url=f"https://site{n % 40}.example/{ident}",
                canonical_url=f"https://site{n % 40}.example/{ident}",
                feed_url=f"https://feed{n % feeds}.example/rss",
                source=f"Site {n % 40}",
                title=f"Story {n} about {rng.choice(PLATFORMS)}",
                text="text",
                text_source="page",
                language=rng.choice(LANGUAGES),
                published_at=now - timedelta(seconds=rng.uniform(0, days * 86400)),
                fetched_at=now,
                content_hash=ident,
                platforms=tuple(rng.sample(PLATFORMS, rng.randint(0, 3))),
                topics=tuple(rng.sample(TOPICS, rng.randint(0, 2))),
                duplicate_of=copy_of,
                similarity=0.9 if copy_of else None,
            )
        )
    return articles


def build(folder: Path, count: int, days: int, feeds: int, now: datetime) -> Config:
    warehouse = Warehouse(folder / "wh")
    with warehouse.transaction() as con:
        wh.insert_articles(con, "bench", _articles(count, days, feeds, now), [], now)
    warehouse.close()
    feed_configs = tuple(FeedConfig(f"https://feed{n}.example/rss", f"feed {n}") for n in range(feeds))
    return Config(
        path=folder / "config.yaml", warehouse=warehouse.settings, seeds=folder, taxonomy=None, network=HttpPolicy(),
        polling=PollingPolicy(), pipeline=PipelineSettings(), feeds=feed_configs, timezone="UTC",
    )  # fmt: skip


def screenshot(page: Path, out: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--window-size=1100,2400", f"--screenshot={out}", page.as_uri(),
        ]  # fmt: skip
        subprocess.run(command, capture_output=True, timeout=120, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--feeds", type=int, default=30)
    parser.add_argument("--screenshot", type=Path, help="folder for Chromium screenshots of each report")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        config = build(Path(tmp), args.articles, args.days, args.feeds, now)
        print(f"{args.articles} articles over {args.days} days, {args.feeds} feeds")
        for window in (1, 30, 90):
            started = time.perf_counter()
            page = render(collect(config, window, now))
            seconds = time.perf_counter() - started
            charts = sum(len(svg) for svg in page.split("<svg")[1:])
            size = len(page.encode()) / 1024
            print(f"  --days {window:>2}: {size:7.1f} KB ({charts / 1024:.1f} KB of SVG), {seconds:.2f} s")
            if args.screenshot:
                args.screenshot.mkdir(parents=True, exist_ok=True)
                html = Path(tmp) / f"report-{window}.html"
                html.write_text(page, encoding="utf-8")
                screenshot(html, args.screenshot / f"report-{window}d.png")


if __name__ == "__main__":
    main()
