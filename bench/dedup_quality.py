"""Near-duplicate precision and recall at scale: labelled pairs decided against an index of 20,000 documents.

The pipeline's own decision (flows.dedupe.mark_duplicates over the real storage.lsh.LshIndex, texts for
verification looked up like the warehouse's) for every labelled pair, with the pair's original indexed
among N documents. Labelled pairs (all from tests/data, see SOURCE.md files there):
- duplicates: extraction-benchmark extractor outputs vs their ground truth; cross-script copies
  (hard-cases/crossscript.json); template reports' reprints and copies with 30 % of sentences replaced
  (hard-cases/dedup-pairs.json);
- not duplicates: different benchmark articles; other articles in the other script; reports of other
  quarters built on the same template.
The other documents are real sentences recombined: each filler is 6-20 sentences drawn from the articles
of one language group (English benchmark articles, Chinese originals and copies, Japanese seeds), so it
shares phrases with many indexed documents without repeating any of them.

Each pair's second text is queried alone and is not indexed, so pairs do not influence each other. Some
second texts are indexed as the original of another pair (a report of another quarter, a different
benchmark article): the query does not see its own indexed copy (that copy's text is withheld from
verification and the exact-hash lookup is skipped; no labelled pair is an exact copy). A query is a true
positive when it is marked a duplicate of a document labelled as its original, a false positive when it is
marked a duplicate of anything else (another labelled document or one of the fillers).

    .venv/bin/python bench/dedup_quality.py [--documents 20000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from core.records import Article
from extractors.dedup import PARAMETERS, fingerprint
from extractors.seeds import parse_seed
from flows.dedupe import mark_duplicates
from newsmon.resources import bundled_seeds_dir
from storage.lsh import LshIndex

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
HARD = DATA / "hard-cases"
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=\.)\s+|\n")
CHUNK = 2000


@dataclass(frozen=True)
class Pair:
    kind: str
    a: str
    b: str
    duplicate: bool


def labelled_pairs() -> list[Pair]:
    bodies = json.loads((DATA / "extraction-benchmark" / "bodies.json").read_text(encoding="utf-8"))
    truth: dict[str, str] = bodies["ground_truth"]
    failed = json.loads((DATA / "extraction-benchmark" / "failed_extractions.json").read_text(encoding="utf-8"))
    pairs = [
        Pair(f"{extractor} vs ground truth", truth[key], body, True)
        for extractor in ("trafilatura", "readability", "news_please")
        for key, body in bodies[extractor].items()
        if key not in failed["failed"].get(extractor, {})
    ]
    keys = sorted(truth)
    pairs += [Pair("different benchmark article", truth[x], truth[y], False) for x, y in pairwise(keys)]
    crossscript = json.loads((HARD / "crossscript.json").read_text(encoding="utf-8"))
    pairs += [Pair("cross-script copy", p["a"], p["b"], True) for p in crossscript]
    pairs += [Pair("cross-script, other article", x["a"], y["b"], False) for x, y in pairwise(crossscript)]
    generated = json.loads((HARD / "dedup-pairs.json").read_text(encoding="utf-8"))
    return [*pairs, *(Pair(p["kind"], p["a"], p["b"], p["duplicate"]) for p in generated)]


def sentence_pools() -> list[list[str]]:
    bodies = json.loads((DATA / "extraction-benchmark" / "bodies.json").read_text(encoding="utf-8"))
    crossscript = json.loads((HARD / "crossscript.json").read_text(encoding="utf-8"))
    seeds = [parse_seed(p.stem, p.read_bytes()).text for p in sorted(bundled_seeds_dir().glob("0*.txt"))]
    groups = [list(bodies["ground_truth"].values()), [t for p in crossscript for t in (p["a"], p["b"])], seeds]
    return [[s for text in group for s in _SENTENCE_END.split(text) if s and len(s.strip()) >= 8] for group in groups]


def fillers(count: int, rng: random.Random) -> list[str]:
    pools = sentence_pools()
    weights = [0.6, 0.3, 0.1]
    out = []
    for _ in range(count):
        pool = rng.choices(pools, weights)[0]
        joiner = " " if pool is pools[0] else ""
        out.append(joiner.join(rng.sample(pool, rng.randint(6, 20))))
    return out


def article(doc_id: str, text: str) -> Article:
    found = fingerprint(text)
    fp = replace(found, content_hash="query:" + found.content_hash)  # never an exact match of its own copy
    now = datetime.now(UTC)
    url = f"https://bench.example/{doc_id}"
    return Article(
        article_id=doc_id,
        url=url,
        canonical_url=url,
        feed_url="bench",
        source="bench",
        title="",
        text=text,
        text_source="page",
        language="und",
        published_at=None,
        fetched_at=now,
        content_hash=fp.content_hash,
        fingerprint=fp,
    )


def build_index(folder: Path, documents: dict[str, str]) -> tuple[LshIndex, float]:
    index = LshIndex(folder / "quality.lsh.sqlite", PARAMETERS + "-quality")
    index.clear()
    began = time.perf_counter()
    items = list(documents.items())
    for low in range(0, len(items), CHUNK):
        chunk = items[low : low + CHUNK]
        index.add([(f"article:{doc_id}", fingerprint(text)) for doc_id, text in chunk], high_water=low + len(chunk))
    return index, time.perf_counter() - began


Outcomes = tuple[Counter[str], dict[str, Counter[str]]]


def evaluate(index: LshIndex, documents: dict[str, str], pairs: list[Pair], verbose: bool = False) -> Outcomes:
    by_text = {text: doc_id for doc_id, text in documents.items()}
    expected: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, str] = {}
    for pair in sorted(pairs, key=lambda p: not p.duplicate):  # a text in a duplicate pair counts there
        kinds.setdefault(pair.b, pair.kind)
        if pair.duplicate:  # either way round: an indexed copy of the query's original counts too
            expected[pair.b].add(by_text[pair.a])
            if pair.b in by_text:
                expected[pair.a].add(by_text[pair.b])
    total: Counter[str] = Counter()
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for number, query in enumerate(sorted(kinds)):

        def texts(doc_ids: Sequence[str], query: str = query) -> dict[str, str]:
            found = {d: documents.get(d.split(":", 1)[1], "") for d in doc_ids}
            own = {d for d, text in found.items() if text == query and d.split(":", 1)[1] not in expected[query]}
            return {d: text for d, text in found.items() if text and d not in own}

        marked = mark_duplicates([article(f"query{number}", query)], index, texts)[0]
        if marked.duplicate_of is None:
            outcome = "fn" if expected[query] else "tn"
        else:
            outcome = "tp" if marked.duplicate_of in expected[query] else "fp"
            if outcome == "fp" and verbose:
                print(f"false: {kinds[query]} {query[:50]!r} -> {documents[marked.duplicate_of][:50]!r}")
        total[outcome] += 1
        per_kind[kinds[query]][outcome] += 1
    return total, per_kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--verbose", action="store_true", help="print every false positive")
    parser.add_argument("--dir", help="where to build the index (default: a temporary folder)")
    args = parser.parse_args()
    folder = Path(args.dir or tempfile.mkdtemp(prefix="newsmon-bench-"))
    pairs = labelled_pairs()
    originals = list(dict.fromkeys(pair.a for pair in pairs))
    documents = {f"orig{i:05d}": text for i, text in enumerate(originals)}
    rng = random.Random(20261130)
    documents |= {f"fill{i:06d}": text for i, text in enumerate(fillers(args.documents - len(documents), rng))}
    index, build_seconds = build_index(folder, documents)
    began = time.perf_counter()
    total, per_kind = evaluate(index, documents, pairs, args.verbose)
    query_ms = (time.perf_counter() - began) * 1000 / sum(total.values())
    index.close()
    precision = total["tp"] / max(1, total["tp"] + total["fp"])
    recall = total["tp"] / max(1, total["tp"] + total["fn"])
    print(
        f"{len(documents):,} indexed documents (built in {build_seconds:.0f} s), {sum(total.values())} queries "
        f"({query_ms:.1f} ms each): precision {precision:.4f}, recall {recall:.4f} ({dict(total)})"
    )
    print("\n| kind | queries | duplicate of its original | duplicate of something else | not a duplicate |")
    print("|---|---:|---:|---:|---:|")
    for kind, counts in sorted(per_kind.items()):
        print(f"| {kind} | {sum(counts.values())} | {counts['tp']} | {counts['fp']} | {counts['tn'] + counts['fn']} |")


if __name__ == "__main__":
    main()
