"""Online story clustering: each new article joins the best-matching recent story or founds a new one.

Pure: article features in, story assignment out. The caller loads the recent stories' members (from the
warehouse) into a `StoryIndex` and feeds articles one by one. A story is identified by its founding article
(`story_id_for`), so the same articles in the same order always give the same ids: re-running a pass or
restarting never renumbers a story.

An article matches a story when, against one of the story's members published within the window, the
evidence score reaches `StoryPolicy.threshold` (see `pair_score`) and the reporting-period guard passes: an
article naming only other quarters than the story's (Q2 vs Q3) never joins it, whatever the score — two
quarters' results of one company stay two stories.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np

from core.records import StoryAssignment, StoryFeatures
from core.settings import StoryPolicy

_GROW = 256


def story_id_for(founding_article_id: str) -> str:
    """A story's id derives from the article that founded it: stable across passes and restarts."""
    return f"s-{founding_article_id}"


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def evidence(article: StoryFeatures, member: StoryFeatures, policy: StoryPolicy) -> float:
    """What two articles share besides their embeddings: platforms, named figures, title bigrams (minus a
    penalty when both have topics and none in common)."""
    score = policy.platform_weight * _jaccard(article.platforms, member.platforms)
    shared = min(len(article.figures & member.figures), policy.figures_for_full_weight)
    score += policy.figure_weight * shared / policy.figures_for_full_weight
    score += policy.title_weight * _jaccard(article.title_grams, member.title_grams)
    if article.topics and member.topics and not article.topics & member.topics:
        score -= policy.topic_penalty
    return score


def pair_score(article: StoryFeatures, member: StoryFeatures, policy: StoryPolicy) -> float:
    """Evidence that two articles report the same event: cosine of the embeddings plus `evidence`."""
    return float(np.dot(article.embedding, member.embedding)) + evidence(article, member, policy)


def periods_agree(article: frozenset[str], story: frozenset[str]) -> bool:
    """The figures/period guard. Calendar and fiscal quarters are compared separately: an article that names
    quarters of a kind, none of which the story names, is about another period."""
    for fiscal in (False, True):
        mine = {p for p in article if p.startswith("F-") == fiscal}
        theirs = {p for p in story if p.startswith("F-") == fiscal}
        if mine and theirs and not mine & theirs:
            return False
    return True


class StoryIndex:
    """The members of the recent stories, as one embedding matrix: each new article is scored in full only
    against its `policy.candidates` closest members (by cosine) published within the window."""

    def __init__(self, policy: StoryPolicy, members: Iterable[tuple[str, StoryFeatures]] = ()) -> None:
        self.policy = policy
        self._members: list[StoryFeatures] = []
        self._story_of: list[str] = []
        self._matrix = np.zeros((_GROW, 0), dtype=np.float32)
        self._times = np.zeros(_GROW, dtype=np.float64)
        self._periods: dict[str, frozenset[str]] = {}
        for story_id, features in members:
            self.join(features, story_id)

    def __len__(self) -> int:
        return len(self._members)

    def periods(self, story_id: str) -> frozenset[str]:
        return self._periods.get(story_id, frozenset())

    def add(self, article: StoryFeatures) -> StoryAssignment:
        """Assign the article to the best story at or above the threshold (ties: the smaller id) or found a
        new one; the article becomes a member either way."""
        best = self._best(article)
        if best is None:
            assignment = StoryAssignment(article.article_id, story_id_for(article.article_id), founded=True)
        else:
            assignment = StoryAssignment(article.article_id, best[1], founded=False, score=best[0])
        self.join(article, assignment.story_id)
        return assignment

    def join(self, article: StoryFeatures, story_id: str) -> None:
        """Make the article a member of the story (also how a duplicate joins its original's story)."""
        n = len(self._members)
        if n == 0 or self._matrix.shape[1] != article.embedding.shape[0]:
            self._matrix = np.zeros((_GROW, article.embedding.shape[0]), dtype=np.float32)
        if n == self._matrix.shape[0]:
            self._matrix = np.vstack([self._matrix, np.zeros_like(self._matrix)])
            self._times = np.concatenate([self._times, np.zeros_like(self._times)])
        self._matrix[n] = article.embedding
        self._times[n] = article.published_at.timestamp()
        self._members.append(article)
        self._story_of.append(story_id)
        self._periods[story_id] = self.periods(story_id) | article.periods

    def _candidates(self, article: StoryFeatures) -> list[int]:
        n = len(self._members)
        if n == 0:
            return []
        window = timedelta(hours=self.policy.window_hours).total_seconds()
        near = np.flatnonzero(np.abs(self._times[:n] - article.published_at.timestamp()) <= window)
        if near.size == 0:
            return []
        cosines = self._matrix[near] @ article.embedding
        keep = min(self.policy.candidates, near.size)
        top = np.argpartition(-cosines, keep - 1)[:keep]
        return [int(near[i]) for i in top]

    def _best(self, article: StoryFeatures) -> tuple[float, str] | None:
        best: tuple[float, str] | None = None
        for i in self._candidates(article):
            story_id = self._story_of[i]
            if self.policy.period_guard and not periods_agree(article.periods, self.periods(story_id)):
                continue
            score = pair_score(article, self._members[i], self.policy)
            if score < self.policy.threshold:
                continue
            if best is None or score > best[0] or (score == best[0] and story_id < best[1]):
                best = (score, story_id)
        return best


def seen_at(published_at: datetime | None, fetched_at: datetime) -> datetime:
    """The time an article counts at for stories: published when the source said so, else fetched."""
    return published_at or fetched_at


__all__ = [
    "StoryIndex",
    "evidence",
    "pair_score",
    "periods_agree",
    "seen_at",
    "story_id_for",
]
