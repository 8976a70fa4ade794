"""The config is parsed once per process: `run_pass` hands the loaded Config to the flow, which does not
read the file again; the deployment entry (`monitor_pass`) reads the file it is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from newsmon.config import load_config
from newsmon.demo import demo_feeds, serve_site
from newsmon.flow import monitor_pass, run_pass
from tests import helpers

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def test_run_pass_does_not_read_the_config_again(tmp_path: Path, site_copy: Path) -> None:
    with serve_site(site_copy) as site:
        path = helpers.write_config(tmp_path, demo_feeds(site.site, site.base_url), pipeline={"fetch_pages": False})
        config = load_config(path)
        path.unlink()  # a second read would fail with "file not found"
        summary = run_pass(config)
    assert summary["status"] == "completed" and summary["articles_new"] > 0
    assert helpers.query(tmp_path, "SELECT count(*) FROM runs") == [(1,)]


def test_the_flow_entry_reads_the_file_it_is_given(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        monitor_pass(str(tmp_path / "missing.yaml"))
