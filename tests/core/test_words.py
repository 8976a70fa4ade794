from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.words import count_of, plural


@pytest.mark.parametrize(
    ("singular", "expected"),
    [("copy", "copies"), ("feed", "feeds"), ("entry", "entries"), ("day", "days"), ("match", "matches")],
)
def test_plural(singular: str, expected: str) -> None:
    assert plural(singular) == expected


def test_counted_nouns_agree_with_their_number() -> None:
    assert count_of(1, "duplicate") == "1 duplicate"
    assert count_of(0, "copy", "copies") == "0 copies"
    assert count_of(1, "weighted failure") == "1 weighted failure"
    assert count_of(3, "weighted failure") == "3 weighted failures"
    assert count_of(2, "new entry", "new entries") == "2 new entries"


@given(st.integers(min_value=0, max_value=10**6))
def test_only_one_is_singular(n: int) -> None:
    assert count_of(n, "article").endswith("article" if n == 1 else "articles")
