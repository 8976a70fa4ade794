"""How much of a cleaned text is prose rather than page chrome. Pure.

A breaking-news brief (速報, 快讯) often has no body beyond its headline; once the repeated headline is
cleaned away, what remains is navigation, date and byline text ("Home | Business | Tech | Login · Staff").
Such text must neither be stored as the article nor be compared by shingles (all briefs of one site share
that chrome). A segment counts as prose when it is long enough to be a sentence: at least `_MIN_CJK` Han,
kana or hangul characters, or `_MIN_WORDS` Latin-script words. Segments are lines split at the separators
menus and bylines use (|, ·, •, », ›, /, >) and with the given titles (the headline) removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from core.text import CJK_CHARACTER

_SEPARATORS = re.compile(r"\s[|·•»›/>]\s|[|｜]|\s·|·\s|\n")
_CJK = CJK_CHARACTER
_WORD = re.compile(r"[^\W\d_]{2,}")
_MIN_CJK = 12
_MIN_WORDS = 5
_PROBE_CHARS = 600  # the start of a text is looked at first: an article's first paragraph settles it


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _prose_segments(text: str, titles: tuple[str, ...]) -> Iterator[str]:
    folded = _fold(text)
    for title in sorted({_fold(t).strip() for t in titles} - {""}, key=len, reverse=True):
        folded = folded.replace(title, "\n")
    for segment in _SEPARATORS.split(folded):
        if len(_CJK.findall(segment)) >= _MIN_CJK or len(_WORD.findall(segment)) >= _MIN_WORDS:
            yield segment.strip()


def prose_chars(text: str, *titles: str) -> int:
    """Characters of `text` in prose segments, after removing every occurrence of the titles."""
    return sum(len(segment) for segment in _prose_segments(text, titles))


def has_substance(text: str, *titles: str, minimum: int = 20) -> bool:
    """Whether `text` holds at least `minimum` characters of prose beyond the titles (stops counting there:
    an ordinary article is decided by its first paragraph)."""
    for sample in (text[:_PROBE_CHARS], text) if len(text) > _PROBE_CHARS else (text,):
        total = 0
        for segment in _prose_segments(sample, titles):
            total += len(segment)
            if total >= minimum:
                return True
    return False
