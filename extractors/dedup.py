"""Near-duplicate detection primitives, CJK-first and pure: shingles, MinHash, LSH band keys, verification.

Text is folded (NFKC + case) and stripped of whitespace and punctuation, so full-width １６８８ equals 1688
and re-wrapped or re-punctuated copies compare equal. Character 5-grams need no word segmentation, which
is what CJK text wants. 128 MinHash permutations are cut into 32 bands of 4 rows: two documents become
candidates when any band matches, which happens with probability 1 - (1 - J^4)^32 (0.87 at Jaccard 0.5,
0.99 at 0.6, 0.9999 at 0.7). Candidates are then verified exactly (see `judge`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.records import Fingerprint
from core.text import fold_for_matching

SHINGLE_CHARS = 5
NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
# Below this many distinct shingles (~25 characters) only exact duplicates are detected: short feed
# summaries share too much phrasing to compare reliably.
MIN_SHINGLES = 20
PARAMETERS = f"char{SHINGLE_CHARS}-minhash{NUM_PERM}-multiply-shift-seed20261122-bands{BANDS}x{ROWS}-lead48x3"
# Verification thresholds (see README "Deduplication" for how they were chosen on the evaluation set).
JACCARD_DUPLICATE = 0.5  # same text, re-wrapped or lightly edited
CONTAINMENT_DUPLICATE = 0.8  # the shorter text is (almost) entirely inside the longer ...
EXCERPT_MIN_SHARE = 0.3  # ... and is at least 30 % of its size (an excerpt, or the article inside a noisier page)
EXCERPT_MIN_SHINGLES = 60  # containment on tiny texts means nothing
LEAD_CHARS = 48  # excerpts keep the lead paragraphs: the starts of the first few are candidate keys too
LEAD_LINES = 3

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_MAX32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
# Multiply-shift hashing (a odd): h(x) = (a*x + b) >> 32 over 64-bit words, a 2-universal family that needs
# no modulo, several times faster than the (a*x + b) mod p form. Fixed seed: signatures are stored.
_RNG = np.random.default_rng(20261122)
_PERM_A = _RNG.integers(0, 1 << 63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_PERM_B = _RNG.integers(0, 1 << 63, size=NUM_PERM, dtype=np.uint64)
_POWERS = np.array([pow(1000003, p, 1 << 64) for p in range(SHINGLE_CHARS - 1, -1, -1)], dtype=np.uint64)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)

U64 = npt.NDArray[np.uint64]


def dedup_text(text: str) -> str:
    """The text as deduplication sees it: folded, without whitespace and punctuation."""
    return _NON_WORD.sub("", fold_for_matching(text))


def content_hash(text: str) -> str:
    return hashlib.sha256(dedup_text(text).encode("utf-8")).hexdigest()


def _mix(values: U64) -> U64:
    """splitmix64 finaliser: spreads polynomial hashes over all 64 bits."""
    with np.errstate(over="ignore"):
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


def shingle_hashes(text: str) -> U64:
    """Sorted unique 32-bit hashes of the character 5-grams of `dedup_text(text)` (stable across runs)."""
    folded = dedup_text(text)
    if len(folded) < SHINGLE_CHARS:
        return np.zeros(0, dtype=np.uint64)
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - SHINGLE_CHARS + 1
    rolled = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset, power in enumerate(_POWERS):
            rolled += codes[offset : offset + count] * power
    return np.unique(_mix(rolled) & _MAX32)


def minhash(hashes: U64) -> U64:
    """NUM_PERM minimum hash values (all 2^32 - 1 for an empty set)."""
    if hashes.size == 0:
        return np.full(NUM_PERM, _MAX32, dtype=np.uint64)
    with np.errstate(over="ignore"):
        permuted = (np.outer(_PERM_A, hashes) + _PERM_B[:, None]) >> _SHIFT32
    result: U64 = permuted.min(axis=1)
    return result


def band_keys(signature: U64) -> tuple[int, ...]:
    """One signed 64-bit key per band (the band number is mixed in, so bands never collide)."""
    rows = signature.reshape(BANDS, ROWS)
    keys = np.arange(BANDS, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(ROWS):
            keys = _mix(keys * _GOLDEN + rows[:, column])
    return tuple(int(k) for k in keys.view(np.int64))


def lead_keys(text: str) -> tuple[int, ...]:
    """Candidate keys for the starts of the first LEAD_LINES paragraphs long enough to be text: an excerpt
    (Jaccard ~0.6, where banding alone misses about 1 pair in 100) keeps the original's lead paragraphs,
    even when a stray headline or byline line precedes them."""
    keys: list[int] = []
    for line in text.split("\n"):
        start = dedup_text(line)[:LEAD_CHARS]
        if len(start) == LEAD_CHARS:
            digest = hashlib.blake2b(start.encode("utf-8"), digest_size=8, person=b"lead").digest()
            keys.append(int.from_bytes(digest, "little", signed=True))
        if len(keys) == LEAD_LINES:
            break
    return tuple(keys)


def fingerprint(text: str) -> Fingerprint:
    hashes = shingle_hashes(text)
    keys = (*band_keys(minhash(hashes)), *lead_keys(text)) if hashes.size >= MIN_SHINGLES else ()
    return Fingerprint(content_hash(text), keys, int(hashes.size))


@dataclass(frozen=True)
class Resemblance:
    jaccard: float
    containment: float  # of the smaller set in the larger
    size_ratio: float  # smaller / larger


def resemblance(a: U64, b: U64) -> Resemblance:
    if a.size == 0 or b.size == 0:
        return Resemblance(0.0, 0.0, 0.0)
    shared = np.intersect1d(a, b, assume_unique=True).size
    smaller, larger = sorted((a.size, b.size))
    return Resemblance(shared / (a.size + b.size - shared), shared / smaller, smaller / larger)


def judge(a: U64, b: U64) -> float | None:
    """The similarity when `a` and `b` are the same story, else None.

    Same story: Jaccard >= 0.5 (re-wrapped, lightly edited), or one is an excerpt of the other (>= 80 % of
    the shorter inside the longer, the shorter at least 30 % of the longer's size). A paragraph quoted inside
    other text fails both: it is a small part of the quoting text and of the source.
    """
    if min(a.size, b.size) < MIN_SHINGLES:
        return None
    found = resemblance(a, b)
    if found.jaccard >= JACCARD_DUPLICATE:
        return round(found.jaccard, 4)
    excerpt_sized = min(a.size, b.size) >= EXCERPT_MIN_SHINGLES and found.size_ratio >= EXCERPT_MIN_SHARE
    if excerpt_sized and found.containment >= CONTAINMENT_DUPLICATE:
        return round(found.containment, 4)
    return None


@dataclass(frozen=True)
class Candidate:
    """An earlier document that shares a band or hash with the new one. `age`: smaller is older."""

    doc_id: str
    age: int
    hashes: U64


def best_original(mine: U64, candidates: Sequence[Candidate]) -> tuple[str, float] | None:
    """The candidate this text duplicates: highest similarity, ties to the oldest; None if it is original."""
    best: tuple[float, int, str] | None = None
    for candidate in candidates:
        similarity = judge(mine, candidate.hashes)
        if similarity is None:
            continue
        if best is None or (similarity, -candidate.age) > (best[0], -best[1]):
            best = (similarity, candidate.age, candidate.doc_id)
    return (best[2], best[0]) if best else None
