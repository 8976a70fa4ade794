"""The seed corpus: text files whose stem is the seed id; the first line is the title, unless it is a byline."""

from __future__ import annotations

import re

from core.records import SeedDocument
from core.text import CJK_CHARACTER
from extractors.clean import clean_text, is_credit_line, normalize_text
from extractors.dedup import fingerprint
from extractors.encoding import decode_bytes
from extractors.language import detect_language

_TITLE_MAX = 200
_NAME_MAX_CHARS = 40
_NAME_MAX_WORDS = 3
_SENTENCE_MARK = re.compile(r"[.!?,;:。！？、，]")
_BY_NAME = re.compile(r"^(by|written by|text by)\s+\S", re.IGNORECASE)
SEED_SKIP_STEMS = frozenset({"SOURCE", "README", "LICENSE"})


def _first_sentence(line: str) -> str:
    """A file written as one long line: its first sentence, when it is short enough to be a headline."""
    end = min((i for i in (line.find(mark) for mark in "。！？!?") if i > 0), default=-1)
    return line[: end + 1] if 0 < end < _TITLE_MAX else ""


def is_byline(line: str, following: str) -> bool:
    """Does `line`, above `following`, name the writer or publisher rather than the story? A credit line
    ("By …", "文/…", "記者 …"), or a short Latin-script name (a few words, no sentence punctuation) above
    a CJK headline — a Chinese or Japanese story is not titled with a bare Latin name."""
    if is_credit_line(line):
        return True
    if len(line) > _NAME_MAX_CHARS or _SENTENCE_MARK.search(line):
        return False
    if _BY_NAME.match(line) and len(line.split()) <= _NAME_MAX_WORDS + 1:
        return True
    latin_name = len(line.split()) <= _NAME_MAX_WORDS and not CJK_CHARACTER.search(line)
    return latin_name and bool(CJK_CHARACTER.search(following))


def _without_byline(raw: str) -> str:
    lines = raw.split("\n")
    rest = [i for i, line in enumerate(lines) if line.strip() and i > 0]
    if rest and is_byline(lines[0], lines[rest[0]]):
        return "\n".join(lines[rest[0] :])
    return raw


def parse_seed(seed_id: str, body: bytes) -> SeedDocument:
    """Clean a seed file the way fetched pages are cleaned; the title runs to the first line break (a byline
    above it is dropped)."""
    raw = _without_byline(normalize_text(decode_bytes(body).text))
    first_line = raw.split("\n", 1)[0]
    title = first_line if len(first_line) <= _TITLE_MAX else _first_sentence(first_line)
    text = clean_text(raw, title)
    return SeedDocument(seed_id, title, text, detect_language(f"{title}\n{text}"), fingerprint(text))
