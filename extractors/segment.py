"""Word boundaries for Han aliases: is a match a word of its sentence, or part of other words?

A two-character Chinese alias is often part of a longer word or place name (京东 in 南京东路 and 京东方,
百度 in 千百度) or straddles two words (天猫 in 今天|猫咪, 美团 in 完美|团队, 钉钉 in 钉|钉子). jieba's
dictionary segmentation (max-probability path over a 350k-word dictionary; jieba-fast-dat, the same
algorithm and dictionary with a C++ double-array trie that loads in ~0.1 s) knows these words. It runs only
on a few characters around a candidate match whose neighbours are Han characters (a match between
punctuation, kana or Latin text needs no segmenting), on the window folded to simplified characters (the
dictionary is simplified; traditional and Japanese 京東 fold to 京东). The aliases themselves are added to
the dictionary, so 京东方面 (JD's side) still cuts as 京东|方面 while 京东方 (BOE) stays one word.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable

import jieba_fast_dat as jieba
import opencc

from core.text import HAN

_WINDOW = 6  # characters either side of the match given to the segmenter
# Dictionary frequency of an added alias (jieba's own: 京东 70, 百度 11,008, 每天 6,612). Measured on the
# classification set and 43 short in-sentence platform mentions: 300 keeps every trap out and finds every
# mention; from ~700 an alias starts to beat real words (每|天猫|粮 instead of 每天|猫粮), from ~20,000
# more of them (钉钉|子 instead of 钉|钉子).
ALIAS_FREQUENCY = 300
_HAN = re.compile(f"[{HAN}]")


def is_han_word(text: str) -> bool:
    return bool(text) and all(_HAN.match(char) for char in text)


@functools.cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    converted = _to_simplified().convert(text)
    return converted if len(converted) == len(text) else text


class Segmenter:
    """Built once per taxonomy; the dictionary is loaded at the first segmenting (~0.1 s and ~40 MB from its
    cache file, which the very first load on a machine writes to the temp folder in ~2 s)."""

    def __init__(self, aliases: Iterable[str]) -> None:
        self._aliases = sorted({_simplified(a) for a in aliases if is_han_word(a)})
        self._tokenizer: jieba.Tokenizer | None = None

    def _jieba(self) -> jieba.Tokenizer:
        if self._tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for alias in self._aliases:
                tokenizer.add_word(alias, freq=ALIAS_FREQUENCY)
            self._tokenizer = tokenizer
        return self._tokenizer

    def needs_check(self, text: str, start: int, end: int) -> bool:
        """A Han alias with a Han character right before or after it."""
        if not is_han_word(text[start:end]):
            return False
        return (start > 0 and bool(_HAN.match(text[start - 1]))) or (end < len(text) and bool(_HAN.match(text[end])))

    def is_word(self, text: str, start: int, end: int) -> bool:
        """Whether text[start:end] starts and ends at word boundaries of its sentence."""
        low, high = max(0, start - _WINDOW), min(len(text), end + _WINDOW)
        window = _simplified(text[low:high])
        boundaries = {0}
        for token in self._jieba().lcut(window, HMM=False):
            boundaries.add(max(boundaries) + len(token))
        return start - low in boundaries and end - low in boundaries
