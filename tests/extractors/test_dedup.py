"""Deduplication: the labelled evaluation set (precision/recall printed) and the primitives' properties."""

from __future__ import annotations

from collections import Counter
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import dedup
from extractors.dedup import Candidate, best_original, content_hash, fingerprint, judge, shingle_hashes
from tests.extractors.dedup_eval import evaluation_set, excerpt_variant, seeds


@cache
def prepared(text: str) -> tuple[dedup.U64, frozenset[int], str]:
    return shingle_hashes(text), frozenset(fingerprint(text).band_keys), content_hash(text)


def predicted_duplicate(a: str, b: str) -> bool:
    """The pipeline's decision for a pair: same hash, or an LSH candidate that verifies."""
    hashes_a, keys_a, hash_a = prepared(a)
    hashes_b, keys_b, hash_b = prepared(b)
    return hash_a == hash_b or (bool(keys_a & keys_b) and judge(hashes_a, hashes_b) is not None)


def test_evaluation_set_precision_and_recall() -> None:
    pairs = evaluation_set()
    outcome: Counter[tuple[bool, bool]] = Counter()
    missed: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for pair in pairs:
        predicted = predicted_duplicate(pair.a, pair.b)
        outcome[(pair.duplicate, predicted)] += 1
        if pair.duplicate and not predicted:
            missed[pair.kind] += 1
        if predicted and not pair.duplicate:
            wrong[pair.kind] += 1
    tp, fp, fn = outcome[(True, True)], outcome[(False, True)], outcome[(True, False)]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(
        f"\ndedup evaluation: {len(pairs)} pairs ({tp + fn} duplicates): "
        f"precision {precision:.4f} recall {recall:.4f}; "
        f"missed {dict(missed)}; false {dict(wrong)}"
    )
    assert precision >= 0.99
    assert recall >= 0.97
    assert {p.kind for p in pairs if p.duplicate} >= {"normalised", "other boilerplate", "lightly edited", "excerpt"}


def test_every_kind_of_seed_republication_is_found() -> None:
    for pair in evaluation_set():
        if pair.kind in ("normalised", "other boilerplate", "lightly edited", "excerpt"):
            assert predicted_duplicate(pair.a, pair.b), pair.kind


def test_quoting_a_paragraph_is_not_a_duplicate() -> None:
    quotes = [p for p in evaluation_set() if p.kind == "quotes a paragraph"]
    assert quotes and not any(predicted_duplicate(p.a, p.b) for p in quotes)


def test_normalisation_makes_width_and_punctuation_irrelevant() -> None:
    assert content_hash("１６８８は、越境ＥＣを強化。") == content_hash("1688は越境ECを強化")
    assert content_hash("Temu  expands\n\nin Europe!") == content_hash("temu expands in europe")


def test_short_texts_only_match_exactly() -> None:
    assert judge(shingle_hashes("淘宝双11"), shingle_hashes("淘宝双11")) is None
    assert fingerprint("短い").band_keys == ()


def test_best_original_prefers_similarity_then_age() -> None:
    text = seeds()[1].text
    mine = shingle_hashes(text)
    older = Candidate("seed:old", 1, shingle_hashes(text))
    younger = Candidate("article:young", 5, shingle_hashes(text))
    weaker = Candidate("article:weaker", 0, shingle_hashes(excerpt_variant(text, 0.7, False)))
    assert best_original(mine, [younger, weaker, older]) == ("seed:old", 1.0)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=400))
def test_fingerprint_is_deterministic_and_total(text: str) -> None:
    first, second = fingerprint(text), fingerprint(text)
    assert first == second
    assert len(first.band_keys) == 0 or dedup.BANDS <= len(first.band_keys) <= dedup.BANDS + dedup.LEAD_LINES
    hashes = shingle_hashes(text)
    assert list(hashes) == sorted(set(hashes.tolist()))
