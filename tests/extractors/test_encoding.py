"""Golden tests: real legacy-encoded feeds decode without mojibake (chardet's and feedparser's suites)."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from extractors.encoding import codec_name, decode_bytes
from tests.conftest import DATA

CHARDET = DATA / "chardet-cjk-feeds"
CHARDET_FEEDS = sorted(CHARDET.glob("*/*.xml"))
_EXPECT = re.compile(rb"Expect:\s*([A-Za-z0-9_-]+)")


def expected_encoding(path: Path) -> str:
    match = _EXPECT.search(path.read_bytes()[:2000].replace(b"\x00", b""))
    return match.group(1).decode() if match else path.parent.name


def test_the_suite_is_there() -> None:
    assert len(CHARDET_FEEDS) >= 100


@pytest.mark.parametrize("path", CHARDET_FEEDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_legacy_feed_decodes_like_its_true_encoding(path: Path) -> None:
    body = path.read_bytes()
    decoded = decode_bytes(body, "application/xml")
    assert "\ufffd" not in decoded.text
    truth = body.decode(expected_encoding(path).lower(), errors="replace").lstrip("\ufeff")
    ours = decoded.text.lstrip("\ufeff")
    if "\ufffd" not in truth:  # where the labelled truth decodes cleanly, we must agree with it letter for letter
        assert len(ours) == len(truth)
        # Vendor supersets (cp950 vs big5) map a few punctuation code points differently (／ vs ∕): allowed.
        differing = {(a, b) for a, b in zip(ours, truth, strict=True) if a != b}
        assert all(not unicodedata.category(a).startswith("L") for a, _ in differing), differing


@pytest.mark.parametrize(
    ("label", "codec"),
    [("GB2312", "gb18030"), ("big5", "cp950"), ("Shift_JIS", "cp932"), ("x-sjis", "cp932"), ("EUC-KR", "cp949")],
)
def test_declared_legacy_labels_widen_to_what_servers_send(label: str, codec: str) -> None:
    # A character outside the labelled repertoire but inside the superset real servers use.
    samples = {"gb18030": "镕基", "cp950": "碁銹", "cp932": "①髙", "cp949": "똠방"}
    text = samples[codec]
    body = f'<?xml version="1.0" encoding="{label}"?><rss><title>{text}</title></rss>'.encode(codec)
    assert text in decode_bytes(body).text


def test_http_charset_wins_over_a_wrong_declaration() -> None:
    body = '<?xml version="1.0" encoding="utf-8"?><p>淘宝と天猫</p>'.encode("shift_jis")
    decoded = decode_bytes(body, "text/xml; charset=Shift_JIS")
    assert "淘宝と天猫" in decoded.text and decoded.evidence == "http"


def test_a_lying_charset_falls_through_to_the_truth() -> None:
    text = "国家市场监督管理总局近日约谈拼多多、淘宝、京东等平台，要求规范仅退款规则，不得强制商家参与低价活动。"
    body = f"<html><body><p>{text}</p></body></html>".encode("gb18030")
    decoded = decode_bytes(body, "text/html; charset=utf-8")
    assert text in decoded.text


def test_unknown_label_is_ignored() -> None:
    assert codec_name("x-bogus-charset") is None
    assert decode_bytes(b"plain ascii", "text/plain; charset=x-bogus").text == "plain ascii"


@given(st.text(max_size=300), st.sampled_from(["utf-8", "utf-16", "utf-32", "gb18030", "utf-8-sig"]))
def test_any_text_round_trips_through_a_bom_or_utf8(text: str, encoding: str) -> None:
    # UTF-16-LE's BOM followed by U+0000 is byte for byte UTF-32-LE's BOM (FF FE 00 00): genuinely ambiguous.
    assume(not (encoding == "utf-16" and text.startswith("\x00")))
    body = text.encode(encoding)
    if encoding in ("utf-8", "gb18030") and not body:
        return
    decoded = decode_bytes(body if encoding != "gb18030" else text.encode("utf-8"))
    assert decoded.text == text


@given(st.binary(max_size=2000), st.one_of(st.none(), st.text(max_size=60)))
def test_never_raises_on_arbitrary_bytes(body: bytes, content_type: str | None) -> None:
    assert isinstance(decode_bytes(body, content_type).text, str)


def test_codec_lookup_names() -> None:
    assert codec_name("UTF-8") == codecs.lookup("utf-8").name.replace("-", "_")
