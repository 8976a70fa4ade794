"""'http(s) only', said once: the feed parser and the network guard both ask core.urls."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.urls import ALLOWED_SCHEMES, scheme_refusal, url_scheme


@pytest.mark.parametrize("url", ["http://a.example/", "HTTPS://a.example/x", " https://a.example "])
def test_http_and_https_are_fetched(url: str) -> None:
    assert scheme_refusal(url) is None


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("file:///etc/passwd", "'file'"), ("javascript:alert(1)", "'javascript'"), ("//a.example/", "'(none)'")],
)
def test_other_schemes_are_refused_with_a_reason(url: str, scheme: str) -> None:
    assert scheme_refusal(url) == f"scheme {scheme} is not fetched (only http and https)"


@given(st.from_regex(r"[a-zA-Z][a-zA-Z0-9+.-]{0,10}", fullmatch=True), st.text(max_size=20))
def test_scheme_is_what_precedes_the_first_colon_lower_cased(scheme: str, rest: str) -> None:
    url = f"{scheme}:{rest}"
    assert url_scheme(url) == scheme.lower()
    assert (scheme_refusal(url) is None) == (scheme.lower() in ALLOWED_SCHEMES)
