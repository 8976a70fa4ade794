"""The small shared text vocabulary: folding for matching and hashing, CJK scripts and languages."""

from __future__ import annotations

import unicodedata


def fold_for_matching(text: str) -> str:
    """Width-, case- and compatibility-folded text (full-width １６８８ -> 1688) for matching and hashing."""
    return unicodedata.normalize("NFKC", text).casefold()
