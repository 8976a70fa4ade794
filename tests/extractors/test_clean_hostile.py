"""Cleaning against hostile text (class 9 of issue 16): no bidi control survives anywhere an article's text
ends up, and zero-width joiners survive exactly where they join emoji into one glyph."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from core.records import Article, FeedEntry
from extractors.article import TextLimits, build_article
from extractors.clean import clean_text, normalize_text

ZWJ = "\u200d"
# Every bidirectional formatting character of Unicode (UAX #9): embeddings, overrides, isolates, marks.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
EMOJI_SEQUENCES = [
    "👩\u200d💻",
    "👨\u200d👩\u200d👧\u200d👦",
    "🏳\ufe0f\u200d🌈",
    "👩🏽\u200d🚒",
    "🧑\u200d🤝\u200d🧑",
    "❤\ufe0f\u200d🔥",
    "🐻\u200d❄\ufe0f",
]


@given(st.lists(st.one_of(st.text(max_size=20), st.sampled_from(BIDI_CONTROLS)), max_size=30).map("".join))
def test_no_bidi_control_survives_normalisation(text: str) -> None:
    assert not set(normalize_text(text)) & set(BIDI_CONTROLS)


@given(st.text(max_size=20), st.sampled_from(EMOJI_SEQUENCES), st.text(max_size=20))
def test_emoji_zwj_sequences_stay_whole(before: str, emoji: str, after: str) -> None:
    cleaned = normalize_text(f"x{before} {emoji} {after}x")
    assert emoji in cleaned


@given(st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=10))
def test_a_joiner_between_letters_is_invisible_junk(word: str) -> None:
    assert ZWJ not in normalize_text(ZWJ.join(["拼多多", word, "Temu"]))


def test_bidi_isolates_are_removed_from_title_text_and_source() -> None:
    spoof = "\u2066\u2067evil\u2069\u2069 \u202egnp.exe\u202c"
    entry = FeedEntry(
        "https://ex.com/f",
        "https://ex.com/a",
        "https://ex.com/a",
        f"Title {spoof}",
        f"Body text long enough {spoof}",
        "",
        None,
        None,
        f"Source {spoof}",
    )
    article = build_article(entry, None, datetime.now(UTC), TextLimits())
    assert isinstance(article, Article)
    for value in (article.title, article.text, article.source):
        assert not set(value) & set(BIDI_CONTROLS), value
    assert "👩\u200d💻" in clean_text("Engineers 👩\u200d💻 at Temu ship the new storefront this week.")
