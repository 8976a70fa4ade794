"""Decode feed and page bytes to text, CJK-first.

Order of evidence: byte-order mark, HTTP charset, in-document declaration (XML declaration or HTML
<meta>), UTF-16/32 without BOM, strict UTF-8, then statistical detection. Declared legacy encodings are
widened to the superset real servers actually send (GB2312 -> GB18030, Big5 -> Big5-HKSCS / CP950,
Shift_JIS -> CP932, EUC-KR -> CP949, Latin-1 -> windows-1252) and every candidate must decode strictly,
so a wrong label falls through to the next piece of evidence instead of producing mojibake. A strict decode
is not proof for encodings that map nearly any bytes (single-byte codes, GB18030): a label is believed only
if charset-normalizer finds no reading with clearly less mess, and a generic server default (ISO-8859-1)
yields to the document's own declaration.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer
from charset_normalizer.md import mess_ratio

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
# What servers send when nobody configured a charset: the document's own declaration is better evidence.
_GENERIC_DEFAULTS = frozenset({"latin_1", "iso8859_1", "cp1252", "ascii"})
_PLAUSIBILITY_SAMPLE = 64 * 1024
_MESS_MARGIN = 0.05  # how much messier than the detector's reading a label's reading may be


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
    best = charset_normalizer.from_bytes(body[:_DETECTION_SAMPLE], preemptive_behaviour=False).best()
    if best is not None:
        found = _try(body, _candidates(best.encoding))
        if found:
            return Decoded(found[0], found[1], "detected")
    return Decoded(body.decode("utf-8", errors="replace"), "utf-8", "fallback")


def _labels(content_type: str | None, body: bytes) -> list[tuple[str | None, str]]:
    """Labels in order of trust: the HTTP charset, then the document's declaration — unless the HTTP charset
    is a generic server default (ISO-8859-1, …) and the document declares something else."""
    http, declared = http_charset(content_type), declared_charset(body)
    if declared and codec_name(http or "") in _GENERIC_DEFAULTS and codec_name(declared) not in _GENERIC_DEFAULTS:
        return [(declared, "declared"), (http, "http")]
    return [(http, "http"), (declared, "declared")]


def _plausible(body: bytes, encoding: str) -> bool:
    """A strict decode proves little for encodings that map almost any bytes to characters (single-byte
    codes, GB18030, and Big5 bytes read as Shift_JIS). A label is believed unless charset-normalizer finds an
    encoding that reads the same bytes with clearly less mess (mojibake)."""
    if encoding.startswith("utf") or body.isascii():
        return True
    sample = body[:_PLAUSIBILITY_SAMPLE]
    best = charset_normalizer.from_bytes(sample, preemptive_behaviour=False).best()
    if best is None:
        return True
    ours, theirs = sample.decode(encoding, "ignore"), sample.decode(best.encoding, "ignore")
    return ours == theirs or mess_ratio(ours, 1.0) <= mess_ratio(theirs, 1.0) + _MESS_MARGIN


def decode_bytes(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a feed or page body. Never raises; invalid input decodes with U+FFFD as a last resort."""
    by_bom = _by_bom(body)
    if by_bom:
        return by_bom
    for label, evidence in _labels(content_type, body):
        found = _try(body, _candidates(label))
        if found and _plausible(body, found[1]):
            return Decoded(found[0], found[1], evidence)
    by_signature = _by_signature(body)
    if by_signature:
        return by_signature
    found = _try(body, ("utf-8",))
    if found:
        return Decoded(found[0], "utf-8", "utf-8")
    return _by_detection(body)
