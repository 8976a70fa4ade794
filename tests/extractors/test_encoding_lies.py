"""Lying charset labels (class 5 of issue 16), on the real legacy-encoded feeds of chardet's suite: a generic
server default (ISO-8859-1) does not beat the document's own declaration, and a label that merely "decodes"
the bytes (single-byte codes and GB18030 decode nearly anything, Big5 bytes decode as Shift_JIS) is checked
for plausibility before it is believed."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from extractors.encoding import decode_bytes
from tests.extractors.test_encoding import CHARDET_FEEDS, expected_encoding

_DECLARATION = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""")


def _truth(path: Path, body: bytes) -> str | None:
    truth = body.decode(expected_encoding(path).lower(), errors="replace").lstrip("\ufeff")
    return None if "\ufffd" in truth else truth


def _same_letters(ours: str, truth: str) -> bool:
    """Vendor supersets (cp950 vs big5) map a few punctuation code points differently: letters must agree."""
    if len(ours) != len(truth):
        return False
    return all(a == b or not unicodedata.category(a).startswith("L") for a, b in zip(ours, truth, strict=True))


def _feeds(*folders: str) -> list[Path]:
    return [p for p in CHARDET_FEEDS if p.parent.name in folders and _truth(p, p.read_bytes()) is not None]


def _lie(body: bytes, label: str) -> bytes:
    """The document's own declaration rewritten to tell the same lie as the server."""
    return _DECLARATION.sub(rb"\g<1>" + label.encode() + rb"\g<2>", body, count=1)


@pytest.mark.parametrize("path", _feeds("Big5", "GB2312", "EUC-KR", "EUC-JP", "SHIFT_JIS", "CP932"), ids=str)
def test_a_truthful_declaration_beats_a_generic_server_default(path: Path) -> None:
    body = path.read_bytes()
    decoded = decode_bytes(body, "application/rss+xml; charset=ISO-8859-1")
    assert _same_letters(decoded.text.lstrip("\ufeff"), _truth(path, body) or "")


@pytest.mark.parametrize("path", _feeds("Big5"), ids=str)
def test_big5_bytes_labelled_shift_jis_are_read_as_big5(path: Path) -> None:
    body = _lie(path.read_bytes(), "Shift_JIS")
    decoded = decode_bytes(body, "text/xml; charset=Shift_JIS")
    assert _same_letters(decoded.text.lstrip("\ufeff"), _truth(path, body) or "")


@pytest.mark.parametrize("path", _feeds("GB2312", "EUC-KR"), ids=str)
def test_cjk_bytes_labelled_latin1_everywhere_are_not_mojibake(path: Path) -> None:
    body = _lie(path.read_bytes(), "ISO-8859-1")
    decoded = decode_bytes(body, "text/xml; charset=ISO-8859-1")
    assert _same_letters(decoded.text.lstrip("\ufeff"), _truth(path, body) or "")


def test_a_truthful_single_byte_label_is_still_believed() -> None:
    text = "Ã  la carte: the café's crème brûlée, naïve façade, Zürich — €5 « très bien » ±2°C."
    body = f"<rss><channel><title>{text}</title></channel></rss>".encode("cp1252")
    assert text in decode_bytes(body, "application/rss+xml; charset=windows-1252").text
