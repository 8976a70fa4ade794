"""The seed corpus: text files whose stem is the seed id; first non-empty line is the title."""

from __future__ import annotations

from dataclasses import dataclass

from extractors.article import content_hash
from extractors.clean import clean_text, normalize_text
from extractors.encoding import decode_bytes
from extractors.language import detect_language

_TITLE_MAX = 200
SEED_SKIP_STEMS = frozenset({"SOURCE", "README", "LICENSE"})


@dataclass(frozen=True)
class SeedDocument:
    seed_id: str
    title: str
    text: str
    language: str
    content_hash: str


def parse_seed(seed_id: str, body: bytes) -> SeedDocument:
    """Clean a seed file the way fetched pages are cleaned; a title runs to the first line break."""
    raw = normalize_text(decode_bytes(body).text)
    first_line = raw.split("\n", 1)[0]
    title = first_line if len(first_line) <= _TITLE_MAX else ""
    text = clean_text(raw, title)
    return SeedDocument(seed_id, title, text, detect_language(f"{title}\n{text}"), content_hash(text))
