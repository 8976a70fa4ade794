"""The small shared text vocabulary: folding for matching and hashing, CJK scripts and languages."""

from __future__ import annotations

import re
import unicodedata


def fold_for_matching(text: str) -> str:
    """Width-, case- and compatibility-folded text (full-width １６８８ -> 1688) for matching and hashing."""
    return unicodedata.normalize("NFKC", text).casefold()


_CJK_CHAR = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def weighted_length(text: str) -> int:
    """Length in Latin-text equivalents: a Han, kana or hangul character carries what ~2 Latin letters do,
    so a 12-character Chinese headline is as long as a 24-character English one and a 60-character Chinese
    paragraph is no "short line"."""
    return len(text) + len(_CJK_CHAR.findall(text))
