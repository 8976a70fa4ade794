"""Platform and topic classification of a cleaned title and body, with evidence. Pure.

All aliases (and all topic keywords) are found in one pass with an Aho-Corasick automaton over the
NFKC + case-folded text; script-aware boundaries and the taxonomy's context rules then decide which
matches count; overlapping matches keep the longest (Alibaba.com over Alibaba).
"""

from __future__ import annotations

import functools
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import ahocorasick

from core.records import Mention
from core.text import KATAKANA_CHARACTER, fold_for_matching
from extractors.segment import Segmenter
from extractors.taxonomy import AliasRule, Taxonomy, parse_taxonomy

_TITLE_WEIGHT = 2.0
_MAX_COUNT_PER_TERM = 3
# A topic must be a main subject, not a passing remark: its score must reach the topic's threshold, scaled
# up gently for long texts (which accumulate stray keywords), and a fair share of the best topic's score.
_LENGTH_UNIT = 2000
_SHARE_OF_BEST = 0.3
_CONTEXT = 30  # characters looked at by not_before / not_after


@dataclass(frozen=True)
class Classification:
    platforms: tuple[str, ...]
    topics: tuple[str, ...]
    mentions: tuple[Mention, ...]
    topic_scores: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class _Alias:
    platform: str
    alias: str
    rules: tuple[AliasRule, ...]


@dataclass(frozen=True)
class _Match:
    start: int  # in folded text
    end: int
    target: _Alias


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    return fold_for_matching(char)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each folded character, the index of the original character it came from.

    Each character is folded on its own, so every folded character has exactly one origin. Text already in
    NFKC whose case folding keeps its length maps one to one (casefold never shortens a character), the
    common case, done in C; other text (full-width forms, ellipses, half-width kana) goes character by
    character. A length check alone is not enough: a contraction (ｶﾞ -> ガ) and an expansion (… -> ...)
    in one text cancel out and would shift every offset after them."""
    if unicodedata.is_normalized("NFKC", text):
        folded = text.casefold()
        if len(folded) == len(text):
            return folded, list(range(len(text)))
    parts = [_fold_char(char) for char in text]
    origin = [index for index, part in enumerate(parts) for _ in part]
    return "".join(parts), origin


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _is_katakana(char: str) -> bool:
    return bool(char) and KATAKANA_CHARACTER.match(char) is not None


def _boundary_ok(folded: str, start: int, end: int) -> bool:
    """Latin/digit edges need a Latin word boundary, katakana edges a katakana boundary."""
    first, last = folded[start], folded[end - 1]
    before = folded[start - 1] if start > 0 else ""
    after = folded[end] if end < len(folded) else ""
    for edge, neighbour in ((first, before), (last, after)):
        if not neighbour:
            continue
        if _is_latin(edge) and _is_latin(neighbour):
            return False
        if _is_katakana(edge) and _is_katakana(neighbour):
            return False
    return True


def _rule_allows(rule: AliasRule, match: _Match, folded: str, original: str, origin: list[int]) -> bool:
    start, end = match.start, match.end
    if rule.case_sensitive:
        span = original[origin[start] : origin[end - 1] + 1]
        if unicodedata.normalize("NFKC", span) != unicodedata.normalize("NFKC", match.target.alias):
            return False
    if rule.not_before is not None and rule.not_before.search(folded[max(0, start - _CONTEXT) : start]):
        return False
    if rule.not_after is not None and rule.not_after.search(folded[end : end + _CONTEXT]):
        return False
    if rule.requires_nearby or rule.forbids_nearby:
        window = folded[max(0, start - rule.window) : end + rule.window]
        if rule.requires_nearby and not any(_near(term, window) for term in rule.requires_nearby):
            return False
        if any(_near(term, window) for term in rule.forbids_nearby):
            return False
    return True


def _near(term: str, window: str) -> bool:
    """Whether `term` occurs in `window`; a term with Latin/digit edges only as a whole word ("EC" is not
    inside "prosecutor", "IPO" not inside "tripod")."""
    folded = _fold(term)
    at = window.find(folded)
    while at >= 0:
        if _boundary_ok(window, at, at + len(folded)):
            return True
        at = window.find(folded, at + 1)
    return False


# Aliases, keywords and rule terms are folded once each, not at every match.
_fold = functools.cache(fold_for_matching)


def _resolve_overlaps(matches: list[_Match]) -> list[_Match]:
    """Longest match wins where matches overlap; identical spans of different platforms all stay."""
    kept: list[_Match] = []
    for match in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if kept and match.start < kept[-1].end:
            last = kept[-1]
            if (match.start, match.end) == (last.start, last.end) and match.target.platform != last.target.platform:
                kept.append(match)
            continue
        kept.append(match)
    return kept


class Classifier:
    """Built once per taxonomy (the automata are the expensive part); `classify` is then cheap."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._aliases = ahocorasick.Automaton()
        by_key: dict[str, list[_Alias]] = defaultdict(list)
        for platform in taxonomy.platforms.values():
            for alias in platform.aliases:
                rules = tuple(r for r in platform.rules if not r.aliases or alias in r.aliases)
                by_key[_fold(alias)].append(_Alias(platform.slug, alias, rules))
        for key, targets in by_key.items():
            self._aliases.add_word(key, (len(key), tuple(targets)))
        self._aliases.make_automaton()
        self._segmenter = Segmenter(alias for platform in taxonomy.platforms.values() for alias in platform.aliases)
        self._keywords = ahocorasick.Automaton()
        terms: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for topic in taxonomy.topics.values():
            for term, weight in topic.keywords:
                terms[_fold(term)].append((topic.slug, weight))
        for key, weights in terms.items():
            self._keywords.add_word(key, (len(key), tuple(weights)))
        self._keywords.make_automaton()

    def _platform_matches(self, original: str) -> tuple[list[_Match], list[int]]:
        folded, origin = fold_with_offsets(original)
        candidates: list[_Match] = []
        if not folded or not len(self._aliases):
            return candidates, origin
        for end_index, (length, targets) in self._aliases.iter(folded):
            start, end = end_index - length + 1, end_index + 1
            if not _boundary_ok(folded, start, end):
                continue
            if self._segmenter.needs_check(folded, start, end) and not self._segmenter.is_word(folded, start, end):
                continue
            for target in targets:
                match = _Match(start, end, target)
                if all(_rule_allows(rule, match, folded, original, origin) for rule in target.rules):
                    candidates.append(match)
        return _resolve_overlaps(candidates), origin

    def mentions(self, text: str, field: Literal["title", "text"]) -> list[Mention]:
        matches, origin = self._platform_matches(text)
        return [
            Mention(m.target.platform, text[origin[m.start] : origin[m.end - 1] + 1], field, origin[m.start])
            for m in matches
        ]

    def topic_scores(self, title: str, text: str) -> dict[str, float]:
        scores: dict[str, float] = defaultdict(float)
        for part, factor in ((title, _TITLE_WEIGHT), (text, 1.0)):
            folded = fold_for_matching(part)
            counts: dict[tuple[str, float, str], int] = defaultdict(int)
            if not folded or not len(self._keywords):
                continue
            for end_index, (length, weights) in self._keywords.iter(folded):
                start, end = end_index - length + 1, end_index + 1
                if not _boundary_ok(folded, start, end):
                    continue
                for topic, weight in weights:
                    counts[(topic, weight, folded[start:end])] += 1
            for (topic, weight, _term), count in counts.items():
                scores[topic] += factor * weight * min(count, _MAX_COUNT_PER_TERM)
        return dict(scores)

    def classify(self, title: str, text: str) -> Classification:
        mentions = [*self.mentions(title, "title"), *self.mentions(text, "text")]
        platforms = tuple(sorted({m.platform for m in mentions}))
        scores = self.topic_scores(title, text)
        ranked = tuple(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))
        return Classification(platforms, self._main_topics(ranked, len(text)), tuple(mentions), ranked)

    def _main_topics(self, ranked: tuple[tuple[str, float], ...], length: int) -> tuple[str, ...]:
        if not ranked:
            return ()
        scale = max(1.0, (length / _LENGTH_UNIT) ** 0.5)
        best = ranked[0][1]
        chosen = [
            topic
            for topic, score in ranked
            if score >= self.taxonomy.topics[topic].threshold * scale and score >= _SHARE_OF_BEST * best
        ]
        return tuple(sorted(chosen))


@functools.cache
def classifier_for(sources: tuple[tuple[str, str], ...]) -> Classifier:
    """The classifier for a chain of taxonomy documents (bundled first, then the user's), built once per
    process: worker processes receive the documents' text and reuse the compiled automata."""
    taxonomy: Taxonomy | None = None
    for name, text in sources:
        taxonomy = parse_taxonomy(text, name, taxonomy)
    return Classifier(taxonomy or Taxonomy())
