"""Shared fixtures. Real parts only: real files, real loopback HTTP servers, a real DuckDB file."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import pytest
from hypothesis import settings

# Property tests explore the same examples on every run: CI stays reproducible (a found case is then
# fixed or stated as out of scope in the test, never re-rolled away).
settings.register_profile("newsmon", derandomize=True, deadline=None)
settings.load_profile("newsmon")

DATA = Path(__file__).resolve().parent / "data"
# Tests that run `newsmon` passes in subprocesses. They share one xdist worker (`make pytest`: -n 2 --dist
# loadgroup) and point their subprocesses at that worker's Prefect server (PREFECT_API_URL, as under a
# deployment) instead of each pass starting Prefect's temporary server (~3 s and ~4 s of CPU a pass). A test
# about the temporary server itself unsets PREFECT_API_URL (tests/reliability/test_kills.py).
CLI_PASSES = pytest.mark.xdist_group("cli-passes")
PROJECT_DIR = Path(__file__).resolve().parent.parent  # the checkout (prefect.yaml, Makefile)


import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One throw-away Prefect server for the whole session (it costs ~10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def _cli_passes_use_the_session_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    group = request.node.get_closest_marker("xdist_group")
    if group is None or group.args != ("cli-passes",):
        return
    request.getfixturevalue("prefect_harness")
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """A private copy of the demo site that a test may change."""
    from newsmon.resources import sample_site_dir

    target = tmp_path / "site"
    shutil.copytree(sample_site_dir(), target)
    return target


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Real passes (marked `integration`) first, the quick unit tests after them: on two xdist workers the
    long tests start at once and the short ones fill the gaps, so both workers finish together. Each test
    is independent of the order."""
    items.sort(key=lambda item: item.get_closest_marker("integration") is None)
