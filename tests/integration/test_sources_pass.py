"""Sources end to end on the sample site: discover its feeds, add one with `newsmon feeds add`, import an
OPML file, follow its news sitemap, and find all of them (with their tags) in a real pass, the warehouse,
`newsmon status`, an alert rule on tags and `newsmon feeds export`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from extractors.opml import parse_opml
from newsmon.cli import main
from newsmon.demo import SiteServer, WebhookReceiver, running, serve_site
from newsmon.flow import monitor_pass
from tests.helpers import WAREHOUSE, query

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

OPML_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.1">
<head><title>Subs</title></head>
<body>
<outline text="Taiwan" title="Taiwan">
  <outline text="電商前線" title="電商前線" description="" type="rss" version="RSS" htmlUrl=""
    xmlUrl="{base}/feeds/taiwan-ec.xml"/>
</outline>
<outline text="Taiwan again" type="rss" xmlUrl="{base}/feeds/taiwan-ec.xml"/>
</body>
</opml>
"""

CONFIG = """\
# Sources walkthrough (kept by `feeds add`)
warehouse: {warehouse}
network:
  allow_hosts: ["127.0.0.1"]   # the sample site is on loopback
  retries: 0
opml: [subs.opml]              # exported from a feed reader
feeds:
  - sitemap: {base}/news-sitemap.xml
    name: Sample news sitemap
    tags: [sitemap]
  - url: {base}/                # a home page by mistake: the error must name its feed
    name: home page
alerts:
  - name: taiwan-desk
    tags: [taiwan]
    notify: ["{hook}"]
"""


@pytest.fixture
def site(site_copy: Path) -> Iterator[SiteServer]:
    with serve_site(site_copy) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    with running(server):
        yield server


def test_discover_add_import_sitemap_and_tags_through_a_pass(
    tmp_path: Path, site: SiteServer, receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    base = site.base_url
    (tmp_path / "subs.opml").write_text(OPML_EXPORT.format(base=base), encoding="utf-8")
    config = tmp_path / "newsmon.yaml"
    config.write_text(
        CONFIG.format(warehouse=tmp_path / WAREHOUSE, base=base, hook=receiver.apprise_url), encoding="utf-8"
    )

    assert main(["feeds", "discover", f"{base}/", "--config", str(config)]) == 0
    table = capsys.readouterr().out
    for feed in ("asia-commerce.xml", "china-retail.atom", "taiwan-ec.xml"):
        assert f"{base}/feeds/{feed}" in table
    assert main(["feeds", "add", f"{base}/", "--config", str(config)]) == 2  # three feeds: --pick one
    capsys.readouterr()
    pick = f"{base}/feeds/china-retail.atom"
    assert main(["feeds", "add", f"{base}/", "--config", str(config), "--pick", pick, "--tag", "CN Press"]) == 0
    assert f"added: url: {pick} (零售观察)" in capsys.readouterr().out
    text = config.read_text(encoding="utf-8")
    assert (
        text.startswith("# Sources walkthrough (kept by `feeds add`)\n") and "# the sample site is on loopback" in text
    )
    assert f"  - url: {pick}\n    name: 零售观察\n    tags: [cn-press]\n" in text

    summary = monitor_pass(str(config))
    assert summary["feeds_total"] == 4 and summary["feeds_failed"] == 1

    kinds = dict(query(tmp_path, "SELECT feed_url, kind FROM feeds"))
    assert kinds[f"{base}/news-sitemap.xml"] == "sitemap" and kinds[pick] == "feed"
    (error,) = query(tmp_path, f"SELECT last_error FROM feeds WHERE feed_url = '{base}/'")[0]
    assert f"advertises the feed {base}/feeds/asia-commerce.xml" in error
    tags = dict(query(tmp_path, "SELECT feed_url, list_distinct(flatten(list(tags))) FROM articles GROUP BY ALL"))
    assert tags == {
        f"{base}/feeds/taiwan-ec.xml": ["taiwan"],
        pick: ["cn-press"],
        f"{base}/news-sitemap.xml": ["sitemap"],
    }
    # The sitemap brought the pages no configured feed lists (those of asia-commerce), with their news titles.
    from_sitemap = query(tmp_path, f"SELECT title FROM articles WHERE feed_url = '{base}/news-sitemap.xml'")
    assert len(from_sitemap) >= 5

    taiwan = {t for (t,) in query(tmp_path, "SELECT title FROM articles WHERE list_contains(tags, 'taiwan')")}
    (message,) = receiver.received
    listed = {line[2:] for line in str(message["message"]).splitlines() if line.startswith("• ")}
    assert listed == taiwan and taiwan

    assert main(["status", "--config", str(config)]) == 0
    status = capsys.readouterr().out
    assert "Sample news sitemap (sitemap)" in status and "tags taiwan" in status and "tags cn-press" in status
    assert "subs.opml: 1 duplicate outline(s) merged" in status  # "Taiwan again" lists the same feed

    exported = tmp_path / "export.opml"
    assert main(["feeds", "export", "--config", str(config), "--format", "opml", "--out", str(exported)]) == 0
    back = {(f.url, f.kind, f.tags) for f in parse_opml(exported.read_bytes()).feeds}
    assert (f"{base}/news-sitemap.xml", "sitemap", ("sitemap",)) in back
    assert (f"{base}/feeds/taiwan-ec.xml", "feed", ("taiwan",)) in back and len(back) == 4


def test_discover_refuses_private_addresses_without_a_config(
    site: SiteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["feeds", "discover", f"{site.base_url}/"]) == 3
    assert "allow_hosts" in capsys.readouterr().err
