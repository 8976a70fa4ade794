"""Decode feed and page bytes to text, CJK-first.

Order of evidence: byte-order mark, HTTP charset, in-document declaration (XML declaration or HTML
<meta>), UTF-16/32 without BOM, strict UTF-8, then statistical detection. Declared legacy encodings are
widened to the superset real servers actually send (GB2312 -> GB18030, Big5 -> Big5-HKSCS / CP950,
Shift_JIS -> CP932, EUC-KR -> CP949, Latin-1 -> windows-1252) and every candidate must decode strictly,
so a wrong label falls through to the next piece of evidence instead of producing mojibake.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# '<' (or '<?') in UTF-16/32 without a BOM.
_NO_BOM_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
# What servers label vs what they send: try the superset(s) first, the label last.
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("cp950", "big5hkscs"),
    "cp950": ("cp950", "big5hkscs"),
    "big5hkscs": ("big5hkscs",),
    "shift_jis": ("cp932", "shift_jis_2004"),
    "cp932": ("cp932", "shift_jis_2004"),
    "euc_jp": ("euc_jp", "euc_jis_2004", "cp932"),
    "euc_kr": ("cp949",),
    "cp949": ("cp949",),
    "latin_1": ("cp1252",),
    "iso8859_1": ("cp1252",),
    "ascii": ("utf-8", "cp1252"),
}
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_DETECTION_SAMPLE = 256 * 1024


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name actually used
    evidence: str  # bom | http | declared | signature | utf-8 | detected | fallback


def codec_name(label: str) -> str | None:
    """The Python codec for an encoding label, or None when the label is unknown (e.g. 'x-bogus')."""
    label = label.strip().strip("\"'").lower()
    aliases = {
        "x-sjis": "shift_jis",
        "sjis": "shift_jis",
        "x-euc-jp": "euc_jp",
        "windows-31j": "cp932",
        "x-gbk": "gbk",
        "unicode": "utf-16",
        "utf8": "utf-8",
    }
    label = aliases.get(label, label)
    try:
        return codecs.lookup(label).name.replace("-", "_") if label else None
    except LookupError:
        return None


def _candidates(label: str | None) -> tuple[str, ...]:
    if not label:
        return ()
    name = codec_name(label)
    if name is None:
        return ()
    if name.startswith(("utf_16", "utf_32")):
        return (name.replace("_", "-"),)
    return (*_SUPERSETS.get(name, ()), name)


def _try(body: bytes, encodings: tuple[str, ...]) -> tuple[str, str] | None:
    for enc in encodings:
        try:
            return body.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def http_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HTTP_CHARSET.search(content_type)
    return match.group(1) if match else None


def declared_charset(body: bytes) -> str | None:
    head = body[:4096]
    match = _XML_DECL.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _by_bom(body: bytes) -> Decoded | None:
    for bom, enc in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(enc, errors="replace")
            return Decoded(text, enc, "bom")
    return None


def _by_signature(body: bytes) -> Decoded | None:
    for signature, enc in _NO_BOM_SIGNATURES:
        if body.startswith(signature):
            found = _try(body, (enc,))
            if found:
                return Decoded(found[0], enc, "signature")
    return None


def _by_detection(body: bytes) -> Decoded:
    best = charset_normalizer.from_bytes(body[:_DETECTION_SAMPLE]).best()
    if best is not None:
        found = _try(body, _candidates(best.encoding))
        if found:
            return Decoded(found[0], found[1], "detected")
    return Decoded(body.decode("utf-8", errors="replace"), "utf-8", "fallback")


def decode_bytes(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a feed or page body. Never raises; invalid input decodes with U+FFFD as a last resort."""
    by_bom = _by_bom(body)
    if by_bom:
        return by_bom
    for label, evidence in ((http_charset(content_type), "http"), (declared_charset(body), "declared")):
        found = _try(body, _candidates(label))
        if found:
            return Decoded(found[0], found[1], evidence)
    by_signature = _by_signature(body)
    if by_signature:
        return by_signature
    found = _try(body, ("utf-8",))
    if found:
        return Decoded(found[0], "utf-8", "utf-8")
    return _by_detection(body)
