"""The labelled deduplication evaluation set, built deterministically from real text.

Duplicates (label True): each seed re-published in every way the issue names (normalisation-only changes,
other boilerplate around it, light edits, excerpts of 60-80 % with or without a "read more" line), and the
article-extraction-benchmark's extractor outputs against the ground truth (same article, other extraction).
Not duplicates (label False): different seeds (same platform, same topic), different benchmark articles,
the demo site's articles among themselves, and pages that quote one paragraph of a seed inside other text.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations, pairwise

from core.records import SeedDocument
from extractors.clean import clean_text
from extractors.seeds import parse_seed
from newsmon.resources import bundled_seeds_dir, sample_site_dir
from tests.conftest import DATA

WIDE = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
OTHER_BOILERPLATE = [
    "ホーム > ニュース > EC",
    "この記事をシェアする",
    "ECウォッチ編集部がお届けする週刊ニュースレターに登録しよう",
    "関連記事",
    "- 越境ECの最新動向まとめ",
    "- 物流大手が新サービス",
    "Copyright © 2026 ECウォッチ All rights reserved.",
]


@dataclass(frozen=True)
class Pair:
    kind: str
    a: str
    b: str
    duplicate: bool


def seeds() -> list[SeedDocument]:
    return [parse_seed(p.stem, p.read_bytes()) for p in sorted(bundled_seeds_dir().glob("0*.txt"))]


def sentences(text: str) -> list[str]:
    out, current = [], ""
    for char in text:
        current += char
        if char in "。！？\n":
            out.append(current)
            current = ""
    return [*out, current] if current else out


def normalisation_variant(text: str) -> str:
    """Full-width Latin and digits, other punctuation and spacing: identical after normalisation."""
    return text.translate(WIDE).replace("、", ", ").replace("。", ". ").replace("\n", "\n\n")


def wrapped_variant(text: str, title: str) -> str:
    """The same text inside other boilerplate, cleaned the way the pipeline cleans a page."""
    body = "\n".join([OTHER_BOILERPLATE[0], title, OTHER_BOILERPLATE[1], text, *OTHER_BOILERPLATE[2:]])
    return clean_text(body, title)


def edited_variant(text: str, rng: random.Random) -> str:
    """A lead sentence added, a few sentences dropped, ~1 % of characters changed."""
    parts = sentences(text)
    for _ in range(min(3, len(parts) // 10)):
        parts.pop(rng.randrange(1, len(parts)))
    edited = "".join(c if rng.random() > 0.01 else rng.choice("のはがをにでとも") for c in "".join(parts))
    return "編集部注：本稿は読者の要望により再掲載するものです。" + edited


def excerpt_variant(text: str, share: float, read_more: bool) -> str:
    cut = text[: int(len(text) * share)]
    return cut + ("\n続きを読む" if read_more else "")


def a_paragraph(text: str, rng: random.Random) -> str:
    """A paragraph's worth (~150-400 characters) of consecutive sentences from somewhere in the text."""
    parts = [s for s in sentences(text) if s.strip()]
    start = rng.randrange(0, max(1, len(parts) - 4))
    chosen = ""
    for part in parts[start:]:
        if len(chosen) >= 150 or len(chosen) + len(part) > 400:
            break
        chosen += part
    return chosen or text[:300]


def quoting_page(host: str, quoted: str, rng: random.Random) -> str:
    """Other text with one paragraph of a known article quoted in the middle."""
    paragraph = a_paragraph(quoted, rng)
    middle = len(host) // 2
    return host[:middle] + "\n「" + paragraph + "」と報じられた。\n" + host[middle:]


def seed_pairs(rng: random.Random) -> Iterator[Pair]:
    docs = seeds()
    for seed in docs:
        yield Pair("normalised", seed.text, normalisation_variant(seed.text), True)
        yield Pair("other boilerplate", seed.text, wrapped_variant(seed.text, seed.title), True)
        yield Pair("lightly edited", seed.text, edited_variant(seed.text, rng), True)
        for share in (0.6, 0.7, 0.8):
            yield Pair("excerpt", seed.text, excerpt_variant(seed.text, share, read_more=share == 0.7), True)
    for first, second in combinations(docs, 2):
        yield Pair("different seed", first.text, second.text, False)
        yield Pair("quotes a paragraph", first.text, quoting_page(second.text, first.text, rng), False)


def benchmark_pairs() -> Iterator[Pair]:
    bodies = json.loads((DATA / "extraction-benchmark" / "bodies.json").read_text(encoding="utf-8"))
    truth: dict[str, str] = bodies["ground_truth"]
    failed = json.loads((DATA / "extraction-benchmark" / "failed_extractions.json").read_text(encoding="utf-8"))
    for extractor in ("trafilatura", "readability", "news_please"):
        for key, body in bodies[extractor].items():
            if key not in failed["failed"].get(extractor, {}):
                yield Pair(f"{extractor} vs ground truth", truth[key], body, True)
    keys = sorted(truth)
    for first, second in pairwise(keys):
        yield Pair("different benchmark article", truth[first], truth[second], False)
    for first, second in zip(keys, keys[7:], strict=False):
        yield Pair("different benchmark article", truth[first], bodies["trafilatura"].get(second, ""), False)


def demo_site_pairs() -> Iterator[Pair]:
    from extractors.pages import extract_page

    texts = []
    for path in sorted((sample_site_dir() / "articles").glob("*.html")):
        if "seed" in path.name:
            continue
        page = extract_page(path.read_bytes().replace(b"{{BASE_URL}}", b"http://127.0.0.1:1"), "http://127.0.0.1:1/a")
        if page:
            texts.append(clean_text(page.text, page.title))
    for first, second in combinations(texts, 2):
        yield Pair("different demo article", first, second, False)


def evaluation_set() -> list[Pair]:
    rng = random.Random(20261122)
    return [*seed_pairs(rng), *benchmark_pairs(), *demo_site_pairs()]
