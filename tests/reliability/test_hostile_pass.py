"""Fault isolation in a real pass (class 2 of issue 16): random and mutated feed bytes served among good
feeds on a loopback site never fail the pass, every hostile feed ends `ok` or with its own recorded error,
and every article of the good feeds is stored."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmon.demo import serve_site
from newsmon.flow import monitor_pass
from tests.conftest import DATA
from tests.helpers import query, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

_SAMPLES = [p.read_bytes() for p in sorted((DATA / "feedparser").rglob("*.xml"))[::40]]
_NASTY = [
    b"&#xD800;",
    b"&#x110000;",
    b"&#" + b"9" * 5000 + b";",
    b"&#x" + b"f" * 40 + b";",
    b"\x00",
    b"\xff\xfe",
    b"<![CDATA[",
    b"<item>",
    b"</channel>",
    b"/dev/zero",
    b"file:///etc/passwd",
    b"<!DOCTYPE r [<!ENTITY a '&#38;#x110000;'>]>",
]


def _good_feed(number: int) -> bytes:
    items = "".join(
        f"<item><title>Good {number}-{n}</title><link>https://good{number}.example/{n}</link>"
        f"<description>Feed {number} entry {n} carries enough summary text to be stored.</description></item>"
        for n in range(2)
    )
    return f"<rss version='2.0'><channel><title>good {number}</title>{items}</channel></rss>".encode()


def _hostile_entry_feed(nasty: bytes) -> bytes:
    """A feed with one poisoned entry between two ordinary ones."""
    good = _good_feed(99).split(b"<item>", 1)
    poisoned = b"<item><title>bad " + nasty + b"</title><link>https://bad.example/x</link></item>"
    return good[0] + poisoned + b"<item>" + good[1]


def _mutate(body: bytes, rng: random.Random, count: int) -> bytes:
    data = bytearray(body)
    for _ in range(count):
        at = rng.randrange(len(data) + 1)
        data[at : at + rng.randint(0, 4)] = rng.choice([rng.randbytes(rng.randint(1, 6)), rng.choice(_NASTY)])
    return bytes(data)


_HOSTILE = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from(_NASTY),
    st.sampled_from(_NASTY).map(_hostile_entry_feed),
    st.tuples(st.sampled_from([*_SAMPLES, _good_feed(7)]), st.randoms(use_true_random=False), st.integers(1, 8)).map(
        lambda args: _mutate(args[0], args[1], args[2])
    ),
)


def _run_pass(folder: Path, hostile: list[bytes]) -> dict[str, Any]:
    site = folder / "site"
    (site / "feeds").mkdir(parents=True)
    for number in range(3):
        (site / "feeds" / f"good{number}.xml").write_bytes(_good_feed(number))
    for number, body in enumerate(hostile):
        (site / "feeds" / f"hostile{number}.xml").write_bytes(body)
    with serve_site(site) as server:
        feeds = [
            {"url": f"{server.base_url}/feeds/{p.name}", "name": p.stem} for p in sorted((site / "feeds").iterdir())
        ]
        config = write_config(folder, feeds, pipeline={"fetch_pages": False})
        return monitor_pass(str(config))


def _assert_isolated(folder: Path, summary: dict[str, Any], hostile: list[bytes]) -> None:
    assert summary["status"] == "completed"
    assert summary["feeds_ok"] + summary["feeds_failed"] == 3 + len(hostile)
    good = query(folder, "SELECT count(*) FROM articles WHERE feed_url LIKE '%/good_.xml'")
    assert good == [(6,)], "every good feed's articles are stored"
    unexplained = query(
        folder, "SELECT feed_url FROM feeds WHERE last_outcome = 'failed' AND coalesce(last_error, '') = ''"
    )
    assert unexplained == []


def test_known_poison_among_good_feeds_never_fails_the_pass(tmp_path: Path) -> None:
    rng = random.Random(16)
    hostile = [*_NASTY, *map(_hostile_entry_feed, _NASTY), *(_mutate(s, rng, 6) for s in _SAMPLES)]
    summary = _run_pass(tmp_path, hostile)
    _assert_isolated(tmp_path, summary, hostile)
    poisoned = query(tmp_path, "SELECT count(*) FROM articles WHERE url LIKE 'https://good99.example/%'")
    assert poisoned == [(2,)], "a poisoned entry costs only itself: its neighbours are stored"


@settings(max_examples=4, suppress_health_check=list(HealthCheck))
@given(st.lists(_HOSTILE, min_size=4, max_size=10))
def test_random_and_mutated_feeds_never_fail_the_pass(hostile: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        summary = _run_pass(Path(folder), hostile)
        _assert_isolated(Path(folder), summary, hostile)
