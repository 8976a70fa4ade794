"""The shared text vocabulary: folding, and which characters count as which CJK script."""

from __future__ import annotations

import pytest

from core.text import (
    CJK_CHARACTER,
    CJK_LANGUAGES,
    HAN_RUNS,
    HANGUL_RUNS,
    KANA_RUNS,
    KATAKANA_CHARACTER,
    LANGUAGES,
    fold_for_matching,
)


@pytest.mark.parametrize(
    ("char", "kana", "hangul", "han", "katakana"),
    [
        ("ひ", True, False, False, False),
        ("カ", True, False, False, True),
        ("ｶ", True, False, False, True),  # half-width katakana
        ("한", False, True, False, False),
        ("漢", False, False, True, False),
        ("𠀋", False, False, True, False),  # supplementary-plane Han
        ("A", False, False, False, False),
        ("。", False, False, False, False),
    ],
)
def test_script_classes(char: str, kana: bool, hangul: bool, han: bool, katakana: bool) -> None:
    assert bool(KANA_RUNS.fullmatch(char)) == kana
    assert bool(HANGUL_RUNS.fullmatch(char)) == hangul
    assert bool(HAN_RUNS.fullmatch(char)) == han
    assert bool(KATAKANA_CHARACTER.fullmatch(char)) == katakana
    assert bool(CJK_CHARACTER.fullmatch(char)) == (kana or hangul or han)


def test_the_cjk_languages_are_the_monitored_languages_but_english() -> None:
    assert set(LANGUAGES) - CJK_LANGUAGES == {"en"}


def test_folding_unifies_width_and_case() -> None:
    assert fold_for_matching("ＴＥＭＵ Temu １６８８") == "temu temu 1688"
