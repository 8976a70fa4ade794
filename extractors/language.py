"""Language identification that is reliable for CJK.

langdetect alone calls Chinese "ko" (Mimino666/langdetect#51), so scripts decide first: kana -> ja,
hangul -> ko, Han only -> zh-cn or zh-tw by counting characters that exist only in the simplified (GB2312
but not Big5) or only in the traditional (Big5 but not GB2312) repertoire. langdetect, seeded so the
answer is stable, handles everything else; a page/feed language tag breaks ties for very short text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from core.text import CHINESE_LANGUAGES, CJK_LANGUAGES, HAN_RUNS, HAN_UNIFIED, HANGUL_RUNS, KANA_RUNS

UNDETERMINED = "und"
_SAMPLE_CHARS = 4000
# langdetect's cost grows with its input while its answer settles early: on 200 real pages, 1,500 characters
# gave the same language as 4,000 on 199 in half the time (the other is a Portuguese page that is mostly an
# English results table: pt at 4,000 and 1,000 characters, en at 1,500 and 2,000).
_LANGDETECT_CHARS = 1500
_MIN_CJK_CHARS = 4
_MIN_LETTERS = 12
_KANA_SHARE = 0.05
_HANGUL_SHARE = 0.2


@functools.cache
def _han_variants() -> tuple[frozenset[str], frozenset[str]]:
    simplified: set[str] = set()
    traditional: set[str] = set()
    for code in HAN_UNIFIED:
        char = chr(code)
        in_gb = _encodable(char, "gb2312")
        in_big5 = _encodable(char, "big5")
        if in_gb and not in_big5:
            simplified.add(char)
        elif in_big5 and not in_gb:
            traditional.add(char)
    return frozenset(simplified), frozenset(traditional)


def _encodable(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _factory() -> DetectorFactory:
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0
    return factory


_SCRIPTS = (("kana", KANA_RUNS), ("hangul", HANGUL_RUNS), ("han", HAN_RUNS))


@dataclass(frozen=True)
class ScriptCounts:
    """Characters of `text` per script: kana, hangul, Han, and other letters (Unicode category L)."""

    kana: int
    hangul: int
    han: int
    letter: int

    @classmethod
    def of(cls, text: str) -> ScriptCounts:
        runs = {
            name: pattern.findall(text)
            for name, pattern in (("kana", KANA_RUNS), ("hangul", HANGUL_RUNS), ("han", HAN_RUNS))
        }
        cjk_letters = sum(map(str.isalpha, "".join(run for found in runs.values() for run in found)))
        counts = {name: sum(map(len, found)) for name, found in runs.items()}
        # str.isalpha is exactly Unicode category L; counted in C, not per character in Python.
        return cls(**counts, letter=sum(map(str.isalpha, text)) - cjk_letters)

    @property
    def cjk(self) -> int:
        return self.kana + self.hangul + self.han


def normalize_language_tag(tag: str | None) -> str | None:
    """'ja-JP' -> 'ja', 'zh-Hant'/'zh-TW'/'zh-HK' -> 'zh-tw', 'zh'/'zh-CN'/'zh-Hans' -> 'zh-cn'."""
    if not tag:
        return None
    tag = tag.strip().lower().replace("_", "-")
    primary = tag.split("-", 1)[0]
    if primary == "zh":
        return "zh-tw" if any(mark in tag for mark in ("hant", "tw", "hk", "mo")) else "zh-cn"
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def _chinese_variant(text: str, hint: str | None) -> str:
    simplified, traditional = _han_variants()
    n_simplified = sum(1 for char in text if char in simplified)
    n_traditional = sum(1 for char in text if char in traditional)
    if n_simplified == n_traditional:
        return hint if hint in CHINESE_LANGUAGES else "zh-cn"
    return "zh-cn" if n_simplified > n_traditional else "zh-tw"


def _langdetect(text: str) -> str | None:
    detector = _factory().create()
    detector.append(text)
    try:
        code = str(detector.detect())
    except LangDetectException:
        return None
    return None if code == "unknown" else code


def detect_language(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code, 'zh-cn'/'zh-tw' for Chinese, 'und' when there is too little to tell. Never raises."""
    hint = normalize_language_tag(hint)
    sample = text[:_SAMPLE_CHARS]
    scripts = ScriptCounts.of(sample)
    cjk = scripts.cjk
    letters = cjk + scripts.letter
    if cjk >= _MIN_CJK_CHARS and cjk >= scripts.letter / 4:
        if scripts.kana >= max(2, _KANA_SHARE * cjk):
            return "ja"
        if scripts.hangul >= _HANGUL_SHARE * cjk:
            return "ko"
        if hint == "ja" and scripts.han == cjk:
            return "ja"
        return _chinese_variant(sample, hint)
    if letters < _MIN_LETTERS:
        return hint or UNDETERMINED
    detected = _langdetect(sample[:_LANGDETECT_CHARS])
    if detected in CJK_LANGUAGES:
        # Script evidence above found too little CJK for these: trust the tag, else the scripts.
        return hint or UNDETERMINED
    return detected or hint or UNDETERMINED
