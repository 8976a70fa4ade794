"""Alert keywords: a case-insensitive phrase, or a /regex/ compiled with RE2 (linear time: no rule can hang
a pass with catastrophic backtracking)."""

from __future__ import annotations

import re2

from core.errors import KeywordError
from core.text import fold_for_matching


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = False
    return options


def is_regex(keyword: str) -> bool:
    return len(keyword) > 2 and keyword.startswith("/") and keyword.endswith("/")


def compile_keyword(keyword: str) -> re2._Regexp | str:
    """'/…/' -> a compiled case-insensitive RE2 pattern; anything else -> the folded phrase."""
    if is_regex(keyword):
        try:
            return re2.compile(keyword[1:-1], options=_options())
        except re2.error as exc:
            raise KeywordError(f"bad regular expression {keyword!r} (RE2 syntax): {exc}") from None
    return fold_for_matching(keyword)
