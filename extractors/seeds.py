"""The seed corpus: text files whose stem is the seed id; first non-empty line is the title."""

from __future__ import annotations

from core.records import SeedDocument
from extractors.clean import clean_text, normalize_text
from extractors.dedup import fingerprint
from extractors.encoding import decode_bytes
from extractors.language import detect_language

_TITLE_MAX = 200
SEED_SKIP_STEMS = frozenset({"SOURCE", "README", "LICENSE"})


def _first_sentence(line: str) -> str:
    """A file written as one long line: its first sentence, when it is short enough to be a headline."""
    end = min((i for i in (line.find(mark) for mark in "。！？!?") if i > 0), default=-1)
    return line[: end + 1] if 0 < end < _TITLE_MAX else ""


def parse_seed(seed_id: str, body: bytes) -> SeedDocument:
    """Clean a seed file the way fetched pages are cleaned; a title runs to the first line break."""
    raw = normalize_text(decode_bytes(body).text)
    first_line = raw.split("\n", 1)[0]
    title = first_line if len(first_line) <= _TITLE_MAX else _first_sentence(first_line)
    text = clean_text(raw, title)
    return SeedDocument(seed_id, title, text, detect_language(f"{title}\n{text}"), fingerprint(text))
