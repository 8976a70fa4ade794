"""The small shared text vocabulary: folding for matching and hashing, CJK scripts and languages."""

from __future__ import annotations

import re
import unicodedata


def fold_for_matching(text: str) -> str:
    """Width-, case- and compatibility-folded text (full-width １６８８ -> 1688) for matching and hashing."""
    return unicodedata.normalize("NFKC", text).casefold()


# The languages newsmon tells apart (taxonomy aliases and keywords are written per language), and the CJK
# ones among them: detected from scripts, never trusted from langdetect alone.
LANGUAGES = ("en", "zh-cn", "zh-tw", "ja", "ko")
CHINESE_LANGUAGES = ("zh-cn", "zh-tw")
CJK_LANGUAGES = frozenset({"ja", "ko", *CHINESE_LANGUAGES})

# Script ranges, as regex character-class bodies.
KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9d"  # hiragana, katakana (+ extensions, half-width)
KATAKANA = "\u30a0-\u30ff\uff66-\uff9f"  # katakana only (word boundaries inside katakana runs)
HANGUL = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"  # syllables, jamo, compatibility jamo
HAN = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0010ffff"  # unified, ext. A, compatibility, planes 2+
HAN_UNIFIED = range(0x4E00, 0xA000)  # the basic block: where the simplified/traditional repertoires differ
KANA_RUNS = re.compile(f"[{KANA}]+")
HANGUL_RUNS = re.compile(f"[{HANGUL}]+")
HAN_RUNS = re.compile(f"[{HAN}]+")
CJK_CHARACTER = re.compile(f"[{KANA}{HANGUL}{HAN}]")
KATAKANA_CHARACTER = re.compile(f"[{KATAKANA}]")
