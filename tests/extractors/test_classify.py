"""Classification: the labelled evaluation set (precision/recall/F1 printed), traps, taxonomy merging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from core.errors import TaxonomyError
from core.text import fold_for_matching
from extractors.classify import Classifier, classifier_for, fold_with_offsets
from extractors.seeds import parse_seed
from extractors.taxonomy import parse_taxonomy
from newsmon.resources import bundled_seeds_dir, bundled_taxonomy_file
from tests.conftest import DATA

LABELLED: list[dict[str, Any]] = yaml.safe_load((DATA / "classification" / "labelled.yaml").read_text(encoding="utf-8"))
BUNDLED = ((str(bundled_taxonomy_file()), bundled_taxonomy_file().read_text(encoding="utf-8")),)
CONTRACT_PLATFORMS = {
    "1688",
    "alibaba",
    "alibaba.com",
    "aliexpress",
    "alipay",
    "amap",
    "amazon",
    "baidu",
    "cainiao",
    "dingtalk",
    "douyin",
    "jd",
    "kuaishou",
    "lazada",
    "meituan",
    "pinduoduo",
    "quark",
    "shein",
    "shopee",
    "taobao",
    "temu",
    "tencent",
    "tiktok",
    "tmall",
    "trendyol",
    "wechat",
    "weibo",
    "xianyu",
    "xiaohongshu",
}
CONTRACT_TOPICS = {
    "ai",
    "cross-border",
    "earnings",
    "livestreaming",
    "logistics",
    "marketing",
    "o2o",
    "organization",
    "payments",
    "pricing",
    "regulation",
    "shopping-festival",
}
SEED_MAIN_TOPIC = {
    "000_2cd9d1cc6badb44b": "pricing",
    "001_5950e2c367f42b74": "cross-border",
    "002_02e8a15aeacacfc5": "o2o",
    "003_2ea41e9ab945de84": "shopping-festival",
    "004_3fe178a0cf4b7ece": "organization",
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return classifier_for(BUNDLED)


def test_bundled_taxonomy_covers_the_contract(classifier: Classifier) -> None:
    assert set(classifier.taxonomy.platforms) >= CONTRACT_PLATFORMS
    assert set(classifier.taxonomy.topics) >= CONTRACT_TOPICS


def test_labelled_set_precision_recall(classifier: Classifier) -> None:
    tp = fp = fn = 0
    topic_hits = topic_total = 0
    trap_errors: list[str] = []
    for item in LABELLED:
        result = classifier.classify(item.get("title", ""), item["text"])
        expected, got = set(item["platforms"]), set(result.platforms)
        tp, fp, fn = tp + len(expected & got), fp + len(got - expected), fn + len(expected - got)
        if item.get("trap") and got:
            trap_errors.append(f"{item['id']}: {sorted(got)}")
        topic_total += len(item["topics"])
        topic_hits += len(set(item["topics"]) & set(result.topics))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall)
    topic_recall = topic_hits / topic_total
    print(
        f"\nplatforms: micro precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f} (tp {tp}, fp {fp}, fn {fn}); "
        f"topics: recall {topic_recall:.3f} ({topic_hits}/{topic_total}) over {len(LABELLED)} texts"
    )
    assert trap_errors == []
    assert f1 >= 0.95
    assert topic_recall >= 0.9


def test_every_item_in_the_labelled_set(classifier: Classifier) -> None:
    """Per-item view of the same set, so a regression names the text."""
    wrong = []
    for item in LABELLED:
        result = classifier.classify(item.get("title", ""), item["text"])
        if set(result.platforms) != set(item["platforms"]):
            wrong.append((item["id"], sorted(result.platforms), sorted(item["platforms"])))
    assert len(wrong) <= 2, wrong


@pytest.mark.parametrize(("seed_id", "topic"), sorted(SEED_MAIN_TOPIC.items()))
def test_main_topic_of_each_seed_is_found_first(classifier: Classifier, seed_id: str, topic: str) -> None:
    seed = parse_seed(seed_id, (bundled_seeds_dir() / f"{seed_id}.txt").read_bytes())
    result = classifier.classify(seed.title, seed.text)
    assert result.topic_scores[0][0] == topic
    assert topic in result.topics


def test_mentions_carry_alias_field_and_position(classifier: Classifier) -> None:
    title, text = "Temu と拼多多", "中国の電子商取引大手、ＰＤＤホールディングスではなく拼多多（Pinduoduo）が…"
    result = classifier.classify(title, text)
    found = {(m.platform, m.alias, m.field, m.position) for m in result.mentions}
    assert ("temu", "Temu", "title", 0) in found and ("pinduoduo", "拼多多", "title", 6) in found
    assert ("pinduoduo", "Pinduoduo", "text", text.index("Pinduoduo")) in found
    for mention in result.mentions:
        source = title if mention.field == "title" else text
        assert source[mention.position : mention.position + len(mention.alias)] == mention.alias


def test_user_taxonomy_adds_a_platform_and_an_alias() -> None:
    extra = """
platforms:
  coupang:
    label: Coupang
    aliases: {en: [Coupang], ko: [쿠팡]}
  xianyu:
    aliases: {ja: [仙遊]}
topics:
  pricing:
    keywords: {en: {"markdown": 3}}
"""
    classifier = classifier_for((*BUNDLED, ("user.yaml", extra)))
    result = classifier.classify("", "쿠팡과 仙遊 and a big markdown")
    assert {"coupang", "xianyu"} <= set(result.platforms)
    assert "pricing" in result.topics
    assert "閑魚" in classifier.taxonomy.platforms["xianyu"].aliases  # extended, not replaced


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("platforms:\n  Bad Slug:\n    aliases: {en: [x]}\n", "platforms.Bad Slug: a slug is"),
        ("platforms:\n  x:\n    aliases: {fr: [x]}\n", "platforms.x.aliases.fr: unknown language"),
        (
            "platforms:\n  x:\n    aliases: {en: [x]}\n    rules: [{not_after: '('}]\n",
            "not_after: bad regular expression",
        ),
        ("platforms:\n  x:\n    aliases: {en: [x]}\n    rules: [{aliases: [y]}]\n", "'y' is not one of this platform"),
        ("topics:\n  t:\n    keywords: {en: {a: -1}}\n", "topics.t.keywords.en.a: weight must be a positive"),
        ("colour: red\n", "colour: unknown key"),
    ],
)
def test_bad_taxonomy_names_the_key(text: str, message: str) -> None:
    with pytest.raises(TaxonomyError) as info:
        parse_taxonomy(text, "user.yaml")
    assert message in str(info.value) and "user.yaml" in str(info.value)


def test_bundled_taxonomy_is_a_file_users_can_copy(tmp_path: Path) -> None:
    copy = tmp_path / "taxonomy.yaml"
    copy.write_text(bundled_taxonomy_file().read_text(encoding="utf-8"), encoding="utf-8")
    assert (
        parse_taxonomy(copy.read_text(encoding="utf-8"), str(copy)).platforms.keys()
        == classifier_for(BUNDLED).taxonomy.platforms.keys()
    )


def _hard_cases() -> list[dict[str, Any]]:
    start = next(i for i, item in enumerate(LABELLED) if item["id"] == "zh-trap-nanjing-road")
    return LABELLED[start:]


def test_hard_cases_traps_and_nicknames(classifier: Classifier) -> None:
    """Aliases inside longer words and place names, ordinary words, people named like platforms; nicknames
    and Korean forms (issue 20's cases, tests/data/classification/labelled.yaml)."""
    cases = _hard_cases()
    traps = [c for c in cases if c.get("trap")]
    hit = [c["id"] for c in traps if classifier.classify(c["title"], c["text"]).platforms]
    assert len(traps) >= 20 and len(hit) <= 1, hit
    for case in cases:
        if not case.get("trap"):
            assert set(classifier.classify(case["title"], case["text"]).platforms) == set(case["platforms"]), case["id"]


def test_evidence_points_at_the_platform_not_at_the_street(classifier: Classifier) -> None:
    text = "京东集团在上海南京东路开设首家线下体验店，由京东物流当日送达。"
    mentions = classifier.classify("", text).mentions
    assert [(m.alias, m.position) for m in mentions] == [("京东集团", 0), ("京东物流", text.index("京东物流"))]
    for mention in mentions:
        assert text[mention.position : mention.position + len(mention.alias)] == mention.alias


@pytest.mark.parametrize(
    ("text", "platform"),
    [("京东方面表示将继续降价", "jd"), ("北京京东世纪贸易有限公司", "jd"), ("京東は28日、決算を発表した", "jd")],
)
def test_segmenting_keeps_real_mentions(classifier: Classifier, text: str, platform: str) -> None:
    assert platform in classifier.classify("", text).platforms


def test_latin_context_terms_match_whole_words(classifier: Classifier) -> None:
    # "EC" (a context term of JD) is not inside "prosecutor"
    assert classifier.classify("", "She earned her JD and became a federal prosecutor.").platforms == ()


# Characters whose folding changes the length: contractions (half-width voiced kana), expansions (ellipsis,
# ligatures, sharp s), width forms, combining marks; mixed with plain CJK and Latin text.
_FOLD_TRAPS = st.sampled_from(list("ｶﾞﾊﾟ…ﬁßＴｅｍｕ１６８８\u0301\u3099eé拼多多テムabc ."))


@given(st.lists(st.one_of(_FOLD_TRAPS, st.characters()), max_size=60).map("".join))
def test_every_folded_character_points_at_the_character_it_came_from(text: str) -> None:
    folded, origin = fold_with_offsets(text)
    assert len(origin) == len(folded)
    assert origin == sorted(origin) and all(0 <= i < len(text) for i in origin)
    position = 0
    for index, char in enumerate(text):  # the folded text is each character folded, in order
        part = fold_for_matching(char)
        assert folded[position : position + len(part)] == part
        assert origin[position : position + len(part)] == [index] * len(part)
        position += len(part)
    assert position == len(folded)


def test_a_contraction_and_an_expansion_that_cancel_out_keep_the_offsets() -> None:
    text = "ｶﾞｶﾞ拼多多…"  # folded whole: ｶﾞｶﾞ -> ガガ (4 -> 2), … -> ... (1 -> 3): the same length
    folded, origin = fold_with_offsets(text)
    start = folded.index("拼多多")
    assert text[origin[start] : origin[start + 2] + 1] == "拼多多"
