"""Online story clustering: each new article joins the best-matching recent story or founds a new one.

Pure: article features in, story assignment out. The caller keeps the recent stories (in memory for a pass,
loaded from the warehouse on start) and feeds articles one by one. A story is identified by its founding
article (`story_id_for`), so the same articles in the same order always give the same ids, and re-running
or restarting never renumbers a story.

An article matches a story when, against the story's closest member within the time window, the evidence
score reaches `StoryPolicy.threshold`:

    cosine(multilingual embeddings) + platform_weight * Jaccard(platforms) + figure_weight * shared figures
    + title_weight * Jaccard(title bigrams) - topic_penalty (when both have topics and share none)

and the reporting-period guard passes: an article naming only other quarters than the story's (Q2 vs Q3)
never joins it, whatever the score — so two quarters' results of one company stay two stories.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StoryPolicy:
    """How stories are matched. `window_hours`: a story takes no article published further than this from
    its closest member (stories age out). Weights were chosen on tests/data/stories (bench/RESULTS.md)."""

    window_hours: float = 72.0
    threshold: float = 0.7
    platform_weight: float = 0.15
    figure_weight: float = 0.25
    title_weight: float = 0.3
    topic_penalty: float = 0.1
    figures_for_full_weight: int = 2
    max_members: int = 50
    period_guard: bool = True


@dataclass(frozen=True)
class StoryFeatures:
    """What matching needs of one article (built from an Article and its embedding)."""

    article_id: str
    published_at: datetime
    embedding: Vector = field(compare=False, repr=False)
    platforms: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    periods: frozenset[str] = frozenset()
    figures: frozenset[str] = frozenset()
    title_grams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Story:
    """A story as matching sees it: its id and its most recent members (at most `max_members`)."""

    story_id: str
    members: tuple[StoryFeatures, ...]

    @property
    def periods(self) -> frozenset[str]:
        return frozenset().union(*(m.periods for m in self.members))

    @property
    def last_seen(self) -> datetime:
        return max(m.published_at for m in self.members)


@dataclass(frozen=True)
class Assignment:
    """Where an article went: `story_id`, whether it founded the story, the score of the match (None when new)."""

    article_id: str
    story_id: str
    founded: bool
    score: float | None = None


def story_id_for(founding_article_id: str) -> str:
    """A story's id derives from the article that founded it: stable across passes and restarts."""
    return f"s-{founding_article_id}"


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def pair_score(article: StoryFeatures, member: StoryFeatures, policy: StoryPolicy) -> float:
    """Evidence that two articles report the same event (no guard, no window)."""
    score = float(np.dot(article.embedding, member.embedding))
    score += policy.platform_weight * _jaccard(article.platforms, member.platforms)
    shared = len(article.figures & member.figures)
    score += policy.figure_weight * min(shared, policy.figures_for_full_weight) / policy.figures_for_full_weight
    score += policy.title_weight * _jaccard(article.title_grams, member.title_grams)
    if article.topics and member.topics and not article.topics & member.topics:
        score -= policy.topic_penalty
    return score


def periods_agree(article: frozenset[str], story: frozenset[str]) -> bool:
    """The figures/period guard: calendar quarters and fiscal quarters are compared separately; an article
    that names quarters, none of which the story names, is about another period."""
    for fiscal in (False, True):
        mine = {p for p in article if p.startswith("F-") == fiscal}
        theirs = {p for p in story if p.startswith("F-") == fiscal}
        if mine and theirs and not mine & theirs:
            return False
    return True


def _within(article: StoryFeatures, member: StoryFeatures, window: timedelta) -> bool:
    return abs(article.published_at - member.published_at) <= window


def story_score(article: StoryFeatures, story: Story, policy: StoryPolicy) -> float | None:
    """The best score against the story's members inside the window; None when the story cannot take it."""
    if policy.period_guard and not periods_agree(article.periods, story.periods):
        return None
    window = timedelta(hours=policy.window_hours)
    scores = [pair_score(article, m, policy) for m in story.members if _within(article, m, window)]
    return max(scores) if scores else None


def assign(article: StoryFeatures, stories: Iterable[Story], policy: StoryPolicy) -> Assignment:
    """Join the best-scoring story at or above the threshold (ties: the older id), else found a new one."""
    best: tuple[float, str] | None = None
    for story in stories:
        score = story_score(article, story, policy)
        if score is None or score < policy.threshold:
            continue
        if best is None or score > best[0] or (score == best[0] and story.story_id < best[1]):
            best = (score, story.story_id)
    if best is None:
        return Assignment(article.article_id, story_id_for(article.article_id), founded=True)
    return Assignment(article.article_id, best[1], founded=False, score=best[0])


class StoryIndex:
    """The recent stories of one process, fed in arrival order. Articles outside every story's window are
    compared with nothing (`forget_before` drops stories that have aged out)."""

    def __init__(self, policy: StoryPolicy, stories: Sequence[Story] = ()) -> None:
        self.policy = policy
        self._stories: dict[str, Story] = {s.story_id: s for s in stories}

    @property
    def stories(self) -> tuple[Story, ...]:
        return tuple(self._stories.values())

    def add(self, article: StoryFeatures) -> Assignment:
        assignment = assign(article, self._stories.values(), self.policy)
        self.join(article, assignment.story_id)
        return assignment

    def join(self, article: StoryFeatures, story_id: str) -> None:
        """Put the article into a story (also used for a duplicate, which joins its original's story)."""
        old = self._stories.get(story_id)
        members = (*old.members, article) if old else (article,)
        members = tuple(sorted(members, key=lambda m: m.published_at))[-self.policy.max_members :]
        self._stories[story_id] = Story(story_id, members)

    def forget_before(self, moment: datetime) -> None:
        self._stories = {k: s for k, s in self._stories.items() if s.last_seen >= moment}
