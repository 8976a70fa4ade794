"""Builds crossscript.json (run once; needs `zhconv` and `feedparser`, NOT a project dependency):

    python tests/data/hard-cases/make_crossscript.py /path/to/shared/corpora

Originals are real text: the Chinese news articles of newspaper4k's test data (BBC Chinese, China Daily,
Xinhua) and blog/news entries of chardet's GB2312 and Big5 test feeds (~2005). Each is republished in the
other script with zhconv (MediaWiki's conversion tables, independent of the OpenCC tables newsmon folds
with), using regional vocabulary (zh-tw: 软件 -> 軟體, 信息 -> 資訊; zh-hk; zh-cn for the reverse), with
what a republishing outlet changes: quotation marks (“” <-> 「」), a credit line, one sentence dropped.
"""

from __future__ import annotations

import html
import json
import random
import re
import sys
from pathlib import Path

import feedparser
import zhconv  # type: ignore[import-not-found]  # only for regenerating the data, not a dependency

HAN = re.compile("[\u4e00-\u9fff]")
TAG = re.compile(r"<[^>]+>")


def entries(folder: Path, limit: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.xml")):
        parsed = feedparser.parse(path.read_bytes())
        taken = 0
        for entry in parsed.entries:
            raw = (entry.get("content") or [{}])[0].get("value", "") or entry.get("summary", "")
            text = re.sub(r"\n\s*\n+", "\n", html.unescape(TAG.sub("\n", raw))).strip()
            if len(HAN.findall(text)) >= 250 and len(text) <= 3000:
                found.append((f"{folder.name}/{path.name}#{entry.get('id') or entry.get('link')}", text))
                taken += 1
                if taken == 2:  # at most two entries per feed: many different writers
                    break
    return found[:limit]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？\n])", text) if s.strip()]


def republish(text: str, variant: str, rng: random.Random) -> str:
    converted = zhconv.convert(text, variant)
    if variant == "zh-cn":
        converted = converted.replace("「", "“").replace("」", "”")
        credit = "来源：网络转载"
    else:
        converted = converted.replace("“", "「").replace("”", "」")
        credit = "（轉載）本文轉載自網路，版權歸原作者所有"
    parts = sentences(converted)
    if len(parts) > 6:
        parts.pop(rng.randrange(1, len(parts)))
    return credit + "\n" + "".join(parts)


def main(corpora: Path) -> None:
    rng = random.Random(20261130)
    pairs = []
    news = corpora / "newspaper4k-articles" / "txt"
    for name in ("chinese_article", "chinese_article_001", "chinese_article_002"):
        text = (news / f"{name}.txt").read_text(encoding="utf-8")
        pairs.append({"id": f"newspaper4k/{name}", "variant": "zh-hk", "a": text, "b": republish(text, "zh-hk", rng)})
    for folder, variant in (("GB2312", "zh-tw"), ("Big5", "zh-cn")):
        for source, text in entries(corpora / "chardet-cjk-feeds" / folder, 20):
            pairs.append({"id": f"chardet/{source}", "variant": variant, "a": text, "b": republish(text, variant, rng)})
    out = Path(__file__).with_name("crossscript.json")
    out.write_text(json.dumps(pairs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(pairs)} pairs -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
