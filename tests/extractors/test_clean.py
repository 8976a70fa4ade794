"""Cleaning: golden expectations on the seed corpus, targeted junk kinds, and properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from core.text import fold_for_matching
from extractors.clean import clean_text, normalize_text
from extractors.seeds import parse_seed
from newsmon.resources import bundled_seeds_dir
from tests.conftest import DATA

GOLDEN: dict[str, dict[str, Any]] = yaml.safe_load((DATA / "seed_cleaning.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("seed_id", sorted(GOLDEN))
def test_seed_cleaning_golden(seed_id: str) -> None:
    path: Path = bundled_seeds_dir() / f"{seed_id}.txt"
    seed = parse_seed(seed_id, path.read_bytes())
    expected = GOLDEN[seed_id]
    for phrase in expected["keep"]:
        assert phrase in seed.text, f"lost real text: {phrase}"
    for phrase in expected["drop"]:
        assert phrase not in seed.text, f"kept junk: {phrase}"
    if "title" in expected:
        assert seed.title == expected["title"]
        assert not seed.text.startswith(expected["title"]), "the repeated title line must go"
    assert seed.language == "ja"


def test_short_lines_of_each_junk_kind_go_and_real_lines_stay() -> None:
    body = "\n".join(
        [
            "拼多多宣布推出新的商家扶持政策，降低平台服务费。",
            "分享到 | 微博 | 微信",
            "【PR】春のキャンペーン実施中",
            "<<: 前の記事のタイトル",
            "责任编辑：王小明",
            "Photo: Reuters",
            "该政策将于下月起实施，覆盖所有中小商家。",
            "相关阅读",
            "- 淘宝发布双11规则",
            "京东物流开设海外仓...",
        ]
    )
    cleaned = clean_text(body, "拼多多推出商家扶持政策")
    assert cleaned.split("\n") == [
        "拼多多宣布推出新的商家扶持政策，降低平台服务费。",
        "该政策将于下月起实施，覆盖所有中小商家。",
    ]


def test_long_paragraph_mentioning_credit_words_is_kept() -> None:
    paragraph = (
        "編集部の調べによると、" + "タオバオの出店者数は前年より大きく増えており、その多くが中小の事業者である。" * 4
    )
    assert clean_text(paragraph) == paragraph


def test_trailing_teaser_list_without_heading_is_dropped() -> None:
    body = "本文の段落です。" * 20 + "\n記事A\nAの要約です...\n記事B\nBの要約です...\n"
    assert clean_text(body) == "本文の段落です。" * 20


def test_normalize_text_whitespace_and_invisibles() -> None:
    assert normalize_text("a\u3000\u00a0 b\u200b\r\n\r\n\r\n c\x07") == "a b\n\nc"


def test_fold_for_matching_width_and_case() -> None:
    assert fold_for_matching("１６８８ ＴＥＭＵ Temu") == "1688 temu temu"


@given(st.text(max_size=500))
def test_clean_text_is_idempotent_and_never_raises(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert len(once) <= len(normalize_text(text)) + 1


@given(st.text(max_size=300))
def test_normalize_text_has_no_control_characters(text: str) -> None:
    out = normalize_text(text)
    assert not any(ord(c) < 0x20 and c != "\n" for c in out)
    assert "\n\n\n" not in out
