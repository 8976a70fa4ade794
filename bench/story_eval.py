"""The story-clustering evaluation set (tests/data/stories) and the methods compared on it.

Used by bench/stories_eval.py (results in bench/RESULTS.md) and tests/extractors/test_stories.py.
Every article goes through the
product's own steps: the bundled taxonomy classifies it, `extractors.embedding` embeds it,
`extractors.storyfeatures` reads its periods and figures, `extractors.stories` clusters it.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

from bench.story_metrics import PRF, bcubed, pairwise, same_pairs
from core.records import StoryFeatures
from core.settings import StoryPolicy
from extractors.classify import classifier_for
from extractors.embedding import embed, embedding_text
from extractors.stories import StoryIndex
from extractors.storyfeatures import named_figures, reporting_periods, title_grams
from newsmon.resources import bundled_taxonomy_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "stories"
# Gold events that are two quarters' results of one company: no article of one may join the other.
QUARTER_PAIRS = frozenset({frozenset({"pdd-2024q2", "pdd-2024q3"}), frozenset({"alibaba-2024q2", "alibaba-2024q3"})})
Clusterer = Callable[[Sequence["EvalArticle"]], dict[str, str]]


@dataclass(frozen=True)
class EvalArticle:
    article_id: str
    event: str
    language: str
    source: str
    published_at: datetime
    title: str
    text: str


def _real_text(item: Mapping[str, str]) -> tuple[str, str]:
    body = (ROOT / item["path"]).read_text(encoding="utf-8").strip()
    if "title" in item:
        return item["title"], body
    first, _, rest = body.partition("\n")
    return first.strip(), rest.strip()


def _when(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def load_articles() -> list[EvalArticle]:
    """Hand-written and real articles, sorted by publication time."""
    articles = []
    for item in yaml.safe_load((DATA / "handwritten.yaml").read_text(encoding="utf-8")):
        articles.append(
            EvalArticle(item["id"], item["event"], item["lang"], item["source"], _when(item["published"]),
                        item["title"], item["text"].strip())
        )  # fmt: skip
    for item in yaml.safe_load((DATA / "real.yaml").read_text(encoding="utf-8")):
        title, text = _real_text(item)
        articles.append(
            EvalArticle(item["id"], item["event"], item["lang"], item["source"], _when(item["published"]), title, text)
        )
    return sorted(articles, key=lambda a: (a.published_at, a.article_id))


def gold(articles: Sequence[EvalArticle]) -> dict[str, str]:
    return {a.article_id: a.event for a in articles}


def features(articles: Sequence[EvalArticle], lead_chars: int | None = None) -> list[StoryFeatures]:
    """StoryFeatures as the pipeline builds them: bundled taxonomy, batched embedding of title + lead."""
    classifier = classifier_for((("taxonomy.yaml", bundled_taxonomy_file().read_text(encoding="utf-8")),))
    texts = [embedding_text(a.title, a.text, *(() if lead_chars is None else (lead_chars,))) for a in articles]
    vectors = embed(texts)
    out = []
    for article, vector in zip(articles, vectors, strict=True):
        found = classifier.classify(article.title, article.text)
        out.append(
            StoryFeatures(
                article.article_id, article.published_at, vector, frozenset(found.platforms),
                frozenset(found.topics), reporting_periods(article.title, article.text),
                named_figures(article.title, article.text), title_grams(article.title),
            )
        )  # fmt: skip
    return out


def online(feats: Sequence[StoryFeatures], policy: StoryPolicy) -> dict[str, str]:
    index = StoryIndex(policy)
    return {f.article_id: index.add(f).story_id for f in feats}


def shuffled_orders(feats: Sequence[StoryFeatures], policy: StoryPolicy, runs: int = 5) -> list[dict[str, str]]:
    """Arrival order is not publication order in a real pass: the same set fed in random orders."""
    results = []
    for seed in range(runs):
        order = list(feats)
        random.Random(seed).shuffle(order)
        results.append(online(order, policy))
    return results


def _single_link(ids: Sequence[str], linked: Callable[[int, int], bool]) -> dict[str, str]:
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            if linked(i, j):
                parent[root(j)] = root(i)
    return {ids[i]: ids[root(i)] for i in range(len(ids))}


def _char_ngrams(text: str, low: int = 2, high: int = 4) -> Counter[str]:
    folded = " ".join(text.casefold().split())
    return Counter(folded[i : i + n] for n in range(low, high + 1) for i in range(len(folded) - n + 1))


def tfidf_vectors(articles: Sequence[EvalArticle]) -> npt.NDArray[np.float64]:
    """Character 2-4-gram TF-IDF (sublinear tf, smooth idf) of title + text, L2-normalised rows."""
    counts = [_char_ngrams(f"{a.title}\n{a.text[:2000]}") for a in articles]
    vocabulary = {g: i for i, g in enumerate(sorted(set().union(*counts)))}
    df = Counter(g for c in counts for g in c)
    idf = {g: math.log((1 + len(counts)) / (1 + d)) + 1 for g, d in df.items()}
    matrix = np.zeros((len(counts), len(vocabulary)))
    for row, c in enumerate(counts):
        for gram, n in c.items():
            matrix[row, vocabulary[gram]] = (1 + math.log(n)) * idf[gram]
    normalised: npt.NDArray[np.float64] = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return normalised


def tfidf_single_link(articles: Sequence[EvalArticle], threshold: float) -> dict[str, str]:
    vectors = tfidf_vectors(articles)
    similarity = vectors @ vectors.T
    return _single_link([a.article_id for a in articles], lambda i, j: bool(similarity[i, j] >= threshold))


def platforms_within(feats: Sequence[StoryFeatures], days: float = 2.0) -> dict[str, str]:
    """The rule "same platforms within 2 days": equal, non-empty platform sets published <= 2 days apart."""
    window = timedelta(days=days)

    def linked(i: int, j: int) -> bool:
        a, b = feats[i], feats[j]
        return bool(a.platforms) and a.platforms == b.platforms and abs(a.published_at - b.published_at) <= window

    return _single_link([f.article_id for f in feats], linked)


def embedding_only(feats: Sequence[StoryFeatures], threshold: float) -> dict[str, str]:
    policy = StoryPolicy(
        threshold=threshold, platform_weight=0, figure_weight=0, title_weight=0, topic_penalty=0, period_guard=False
    )
    return online(feats, policy)


@dataclass(frozen=True)
class Scores:
    bcubed: PRF
    pairwise: PRF
    cross_language_recall: float  # share of gold pairs in two different languages that were joined
    quarter_merges: int  # joined pairs from two different quarters' results of one company (must be 0)
    stories: int


def score(articles: Sequence[EvalArticle], feats: Sequence[StoryFeatures], system: Mapping[str, str]) -> Scores:
    truth = gold(articles)
    language = {a.article_id: a.language for a in articles}
    cross = {p for p in same_pairs(truth) if language[p[0]] != language[p[1]]}
    joined = same_pairs(system)
    violations = sum(1 for a, b in joined if frozenset((truth[a], truth[b])) in QUARTER_PAIRS)
    return Scores(
        bcubed(truth, system), pairwise(truth, system), len(cross & joined) / len(cross), violations,
        len(set(system.values())),
    )  # fmt: skip


def with_threshold(policy: StoryPolicy, threshold: float) -> StoryPolicy:
    return replace(policy, threshold=threshold)
