"""URL canonicalisation: one identity per article whatever the tracking decoration."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractors.urls import article_id, canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://News.Example.COM:443/a/b?utm_source=rss&utm_medium=feed#top", "https://news.example.com/a/b"),
        ("http://ex.com:80", "http://ex.com/"),
        ("http://ex.com:8080/x", "http://ex.com:8080/x"),
        ("https://ex.com/p?b=2&a=1&fbclid=XYZ&spm=a21.1", "https://ex.com/p?a=1&b=2"),
        ("https://item.taobao.com/item.htm?id=123&spm=a1z10", "https://item.taobao.com/item.htm?id=123"),
        ("https://ex.com/中文/記事", "https://ex.com/%E4%B8%AD%E6%96%87/%E8%A8%98%E4%BA%8B"),
        ("https://ex.com/a%2fb", "https://ex.com/a%2Fb"),
        ("https://例え.jp/x", "https://xn--r8jz45g.jp/x"),
        ("http://[::1]:9/admin", "http://[::1]:9/admin"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url", ["ftp://ex.com/f", "file:///etc/passwd", "javascript:alert(1)", "/relative", "", "http://"]
)
def test_not_fetchable_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="not an absolute http"):
        canonical_url(url)


def test_article_id_is_stable() -> None:
    assert article_id("https://ex.com/a") == article_id("https://ex.com/a")
    assert len(article_id("https://ex.com/a")) == 16


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40), st.integers(0, 3))
def test_canonical_url_is_idempotent(path: str, params: int) -> None:
    query = "&".join(f"k{i}=v{i}" for i in range(params))
    try:
        once = canonical_url(f"https://ex.com/{path}?{query}&utm_campaign=x")
    except ValueError:
        return
    assert canonical_url(once) == once
    assert "utm_" not in once
