"""The persistent, incremental near-duplicate candidate index: LSH band keys in SQLite next to the warehouse.

Why not a DuckDB table: DuckDB answers "which of these 3,200 keys exist" with a scan of the whole band
table (it only uses its ART index for single-value point queries), so lookups grow linearly with the
corpus. SQLite's B-tree answers them in O(log n). The warehouse stays the source of truth: this file is a
derived index, written right after each batch commits and caught up at the start of every pass from the
articles' `seq` high-water mark, so a crash between the two commits never leaves it out of step for the
next lookup, and a deleted or mismatched index is rebuilt from the warehouse.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.records import Fingerprint

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    doc          INTEGER PRIMARY KEY,        -- insertion order = age: ties go to the smallest
    doc_id       TEXT NOT NULL UNIQUE,       -- 'seed:<seed_id>' or 'article:<article_id>'
    content_hash TEXT NOT NULL,
    shingles     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_hash ON docs (content_hash);
CREATE TABLE IF NOT EXISTS bands (
    key INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (key, doc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
HIGH_WATER = "article_seq_high_water"
PARAMETERS = "parameters"


@dataclass(frozen=True)
class IndexedDoc:
    doc: int
    doc_id: str


class LshIndex:
    """One per pass; not shared across threads. `parameters` names the fingerprint scheme: an index built
    with other parameters is discarded and rebuilt (its keys would never match)."""

    def __init__(self, path: Path, parameters: str) -> None:
        self.path = path
        self._con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute("PRAGMA cache_size=-262144")  # 256 MiB of page cache
        self._con.execute("PRAGMA mmap_size=4294967296")  # read through mmap: ~40 % faster lookups at 1M docs
        self._con.executescript(SCHEMA)
        if self._meta(PARAMETERS) not in (None, parameters):
            self.clear()
        self._set_meta(PARAMETERS, parameters)

    def close(self) -> None:
        self._con.close()

    def _meta(self, name: str) -> str | None:
        row = self._con.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    def _set_meta(self, name: str, value: str) -> None:
        self._con.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    def clear(self) -> None:
        self._con.execute("BEGIN")
        self._con.execute("DELETE FROM bands")
        self._con.execute("DELETE FROM docs")
        self._con.execute("DELETE FROM meta WHERE name = ?", (HIGH_WATER,))
        self._con.execute("COMMIT")

    @property
    def high_water(self) -> int:
        return int(self._meta(HIGH_WATER) or 0)

    def indexed(self, doc_ids: Iterable[str]) -> set[str]:
        ids = list(doc_ids)
        rows = self._con.execute(
            "SELECT doc_id FROM docs WHERE doc_id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
        )
        return {str(row[0]) for row in rows}

    def add(self, entries: Sequence[tuple[str, Fingerprint]], high_water: int | None = None) -> None:
        """Add documents (idempotent per doc_id) and move the article high-water mark, in one transaction."""
        self._con.execute("BEGIN")
        try:
            rows: list[tuple[int, int]] = []
            for doc_id, fingerprint in entries:
                cursor = self._con.execute(
                    "INSERT OR IGNORE INTO docs (doc_id, content_hash, shingles) VALUES (?, ?, ?)",
                    (doc_id, fingerprint.content_hash, fingerprint.shingles),
                )
                if cursor.rowcount and cursor.lastrowid is not None:
                    rows.extend((key, cursor.lastrowid) for key in fingerprint.band_keys)
            rows.sort()  # B-tree inserts in key order touch each page once
            self._con.executemany("INSERT OR IGNORE INTO bands (key, doc) VALUES (?, ?)", rows)
            if high_water is not None:
                self._set_meta(HIGH_WATER, str(max(high_water, self.high_water)))
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    def same_hash(self, hashes: Iterable[str]) -> dict[str, IndexedDoc]:
        """For each content hash that is indexed, its oldest document."""
        rows = self._con.execute(
            "SELECT content_hash, min(doc) FROM docs WHERE content_hash IN (SELECT value FROM json_each(?)) "
            "GROUP BY content_hash",
            (json.dumps(sorted(set(hashes))),),
        ).fetchall()
        docs = self._docs(int(row[1]) for row in rows)
        return {str(row[0]): docs[int(row[1])] for row in rows}

    def sharing_bands(self, keys: Iterable[int]) -> dict[int, list[IndexedDoc]]:
        """For each band key, the indexed documents that have it (one query for a whole batch)."""
        wanted = sorted(set(keys))
        rows = self._con.execute(
            "SELECT key, doc FROM bands WHERE key IN (SELECT value FROM json_each(?))", (json.dumps(wanted),)
        ).fetchall()
        docs = self._docs(int(row[1]) for row in rows)
        found: dict[int, list[IndexedDoc]] = {}
        for key, doc in rows:
            found.setdefault(int(key), []).append(docs[int(doc)])
        return found

    def _docs(self, numbers: Iterable[int]) -> dict[int, IndexedDoc]:
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        rows = self._con.execute(
            "SELECT doc, doc_id FROM docs WHERE doc IN (SELECT value FROM json_each(?))", (json.dumps(wanted),)
        )
        return {int(doc): IndexedDoc(int(doc), str(doc_id)) for doc, doc_id in rows}

    def size(self) -> int:
        row = self._con.execute("SELECT count(*) FROM docs").fetchone()
        return int(row[0]) if row else 0
