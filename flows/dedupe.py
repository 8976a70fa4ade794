"""Mark each new article of a batch as an original or a duplicate of an earlier document.

Earlier documents are the seeds and every stored article (found through the LSH index) and the articles
before it in the same batch. Exact duplicates (same folded-text hash) are found first; near duplicates are
candidates sharing an LSH band, verified exactly on their shingles.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace

from core.records import ARTICLE_PREFIX, SEED_PREFIX, Article, public_id
from core.settings import WarehouseSettings
from extractors.dedup import PARAMETERS, Candidate, best_original, fingerprint, mask_figures, shingle_hashes
from storage import warehouse as wh
from storage.lsh import IndexedDoc, LshIndex, discard_index
from storage.warehouse import Connection, index_path

CATCH_UP_CHUNK = 1000
_BATCH_AGE = 1 << 62  # batch articles are younger than everything indexed


def open_index(warehouse: WarehouseSettings) -> LshIndex:
    return LshIndex(index_path(warehouse), PARAMETERS)


def open_caught_up(
    warehouse: WarehouseSettings, con: Connection, warn: Callable[[str], None]
) -> tuple[LshIndex, int, bool]:
    """The index, caught up with the warehouse: (index, documents added, whether it was rebuilt). A damaged
    index file (derived data) is deleted and rebuilt from the warehouse with a warning; it never blocks."""
    try:
        return _caught_up(open_index(warehouse), con)
    except sqlite3.DatabaseError as exc:
        path = index_path(warehouse)
        warn(f"the near-duplicate index {path} is damaged ({exc}): rebuilding it from the warehouse")
        discard_index(path)
        return _caught_up(open_index(warehouse), con)


def _caught_up(index: LshIndex, con: Connection) -> tuple[LshIndex, int, bool]:
    try:
        added, rebuilt = catch_up(index, con)
    except BaseException:
        index.close()
        raise
    return index, added, rebuilt


def catch_up(index: LshIndex, con: Connection) -> tuple[int, bool]:
    """Bring the index in step with the warehouse: seeds, then articles after the high-water mark.

    Returns (documents added, whether the index had to be rebuilt because it was ahead of the warehouse).
    """
    rebuilt = index.high_water > wh.max_seq(con)
    if rebuilt:
        index.clear()
    seeds = wh.seed_texts(con)
    present = index.indexed(SEED_PREFIX + seed_id for seed_id in seeds)
    missing = [
        (SEED_PREFIX + sid, fingerprint(text))
        for sid, text in sorted(seeds.items())
        if SEED_PREFIX + sid not in present
    ]
    index.add(missing)
    added = len(missing)
    while rows := wh.articles_after(con, index.high_water, CATCH_UP_CHUNK):
        index.add([(ARTICLE_PREFIX + aid, fingerprint(text, title)) for _, aid, title, text in rows], rows[-1][0])
        added += len(rows)
    return added, rebuilt


def _stored_candidates(
    articles: Sequence[Article], index: LshIndex
) -> tuple[dict[str, IndexedDoc], dict[int, list[IndexedDoc]]]:
    prints = [a.fingerprint for a in articles if a.fingerprint is not None]
    exact = index.same_hash(p.content_hash for p in prints)
    banded = index.sharing_bands(key for p in prints for key in p.band_keys)
    return exact, banded


def mark_duplicates(
    articles: Sequence[Article], index: LshIndex, texts: Callable[[Sequence[str]], dict[str, str]]
) -> list[Article]:
    """The same articles with `duplicate_of` / `similarity` set where they repeat an earlier document.

    Shingle sets are computed only for documents that take part in a verification: most articles share no
    band with anything and need none (their fingerprint was already made in the extraction worker)."""
    exact, banded = _stored_candidates(articles, index)
    stored_ages = {doc.doc_id: doc.doc for docs in banded.values() for doc in docs}
    known_text = texts(sorted(stored_ages)) if stored_ages else {}
    hashed: dict[str, Candidate] = {}

    def candidate(doc_id: str, age: int) -> Candidate:
        if doc_id not in hashed:
            text = known_text[doc_id]
            hashed[doc_id] = Candidate(doc_id, age, shingle_hashes(text), shingle_hashes(mask_figures(text)))
        return replace(hashed[doc_id], age=age)

    batch_by_hash: dict[str, str] = {}
    batch_by_key: dict[int, list[tuple[str, int]]] = {}
    marked: list[Article] = []
    for position, article in enumerate(articles):
        fp = article.fingerprint
        if fp is None:
            marked.append(article)
            continue
        doc_id = ARTICLE_PREFIX + article.article_id
        known_text[doc_id] = article.text
        original: tuple[str, float] | None = None
        if fp.content_hash in exact:
            original = (exact[fp.content_hash].doc_id, 1.0)
        elif fp.content_hash in batch_by_hash:
            original = (batch_by_hash[fp.content_hash], 1.0)
        else:
            ages = {
                doc.doc_id: doc.doc for key in fp.band_keys for doc in banded.get(key, []) if doc.doc_id in known_text
            }
            ages.update(entry for key in fp.band_keys for entry in batch_by_key.get(key, []))
            if ages:
                mine = candidate(doc_id, 0)
                candidates = [candidate(other, age) for other, age in ages.items()]
                original = best_original(mine.hashes, candidates, mine.masked)
            for key in fp.band_keys:
                batch_by_key.setdefault(key, []).append((doc_id, _BATCH_AGE + position))
        batch_by_hash.setdefault(fp.content_hash, doc_id)
        if original is None:
            marked.append(article)
        else:
            marked.append(replace(article, duplicate_of=public_id(original[0]), similarity=original[1]))
    return marked
