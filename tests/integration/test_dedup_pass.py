"""A real pass over a feed that re-publishes the seed articles in every way: each is marked with its seed."""

from __future__ import annotations

import html
import json
import random
from pathlib import Path

import pytest

from newsmon.demo import serve_site
from newsmon.flow import monitor_pass
from tests.conftest import DATA
from tests.extractors.dedup_eval import (
    a_paragraph,
    edited_variant,
    excerpt_variant,
    normalisation_variant,
    seeds,
    wrapped_variant,
)
from tests.helpers import open_lake, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())
    return (
        f"<html lang='ja'><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
        "<nav><a href='/'>ホーム</a> <a href='/ec'>EC</a></nav><main><article>"
        f"<h1>{html.escape(title)}</h1>{paragraphs}</article></main>"
        "<footer>© 2026 Syndication Test</footer></body></html>"
    )


def feed(items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<item><title>{html.escape(title)}</title><link>{{{{BASE_URL}}}}/p/{slug}.html</link></item>"
        for slug, title in items
    )
    head = "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Syndication</title>"
    return f"{head}{entries}</channel></rss>"


def build_site(root: Path) -> dict[str, str | None]:
    """Pages and feeds; returns slug -> expected duplicate_of (a seed id, a slug of an earlier page, or None)."""
    rng = random.Random(7)
    (root / "p").mkdir(parents=True)
    (root / "feeds").mkdir()
    expected: dict[str, str | None] = {}
    items: list[tuple[str, str]] = []
    for seed in seeds():
        variants = {
            "normalised": normalisation_variant(seed.text),
            "boilerplate": wrapped_variant(seed.text, seed.title),
            "edited": edited_variant(seed.text, rng),
            "excerpt": excerpt_variant(seed.text, 0.6, read_more=True),
        }
        for kind, text in variants.items():
            slug = f"{seed.seed_id}-{kind}"
            (root / "p" / f"{slug}.html").write_text(
                page(f"{seed.title or seed.seed_id}（{kind}）", text), encoding="utf-8"
            )
            items.append((slug, f"{seed.seed_id} {kind}"))
            expected[slug] = seed.seed_id
    bodies = json.loads((DATA / "extraction-benchmark" / "bodies.json").read_text(encoding="utf-8"))["ground_truth"]
    host = next(iter(bodies.values()))
    quoting = host[: len(host) // 2] + "\n" + a_paragraph(seeds()[1].text, rng) + "\n" + host[len(host) // 2 :]
    (root / "p" / "quoting.html").write_text(page("A quoting page", quoting), encoding="utf-8")
    items.append(("quoting", "quoting"))
    expected["quoting"] = None
    story = "拼多多は新たな出店者支援策を発表した。手数料を引き下げ、品質の高い商品を優遇する。" * 8
    for slug in ("story-a", "story-b"):  # the same new story under two URLs in one batch
        (root / "p" / f"{slug}.html").write_text(page("拼多多の新支援策", story), encoding="utf-8")
        items.append((slug, slug))
    expected["story-a"], expected["story-b"] = None, "story-a"
    (root / "feeds" / "syndication.xml").write_text(feed(items), encoding="utf-8")
    return expected


def test_every_republication_is_marked_with_the_right_original(tmp_path: Path) -> None:
    site = tmp_path / "site"
    expected = build_site(site)
    with serve_site(site) as server:
        config = write_config(tmp_path, [{"url": f"{server.base_url}/feeds/syndication.xml", "name": "syndication"}])
        summary = monitor_pass(str(config))
        con = open_lake(tmp_path)
        rows = con.execute("SELECT url, article_id, duplicate_of, similarity FROM articles").fetchall()
        con.close()
        assert summary["articles_duplicate"] == sum(1 for v in expected.values() if v)
        by_slug = {url.rsplit("/", 1)[1].removesuffix(".html"): (aid, dup, sim) for url, aid, dup, sim in rows}
        for slug, original in expected.items():
            wanted = by_slug[original][0] if original in by_slug else original
            assert by_slug[slug][1] == wanted, slug
            assert (by_slug[slug][2] is None) == (original is None), slug
        # A later run: a page re-publishing an article stored in the first run points to that article.
        (site / "p" / "later.html").write_text(
            (site / "p" / "story-a.html").read_text(encoding="utf-8"), encoding="utf-8"
        )
        xml = (site / "feeds" / "syndication.xml").read_text(encoding="utf-8")
        (site / "feeds" / "syndication.xml").write_text(
            xml.replace(
                "</channel>", "<item><title>later</title><link>{{BASE_URL}}/p/later.html</link></item></channel>"
            ),
            encoding="utf-8",
        )
        monitor_pass(str(config))
    con = open_lake(tmp_path)
    later = con.execute("SELECT duplicate_of FROM articles WHERE url LIKE '%/later.html'").fetchall()
    con.close()
    assert later == [(by_slug["story-a"][0],)]
