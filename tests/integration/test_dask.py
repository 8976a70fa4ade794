"""Scale-out: the extraction step on a real Dask cluster (2 worker processes) through prefect-dask."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster, get_task_stream

from newsmon.demo import SiteServer, demo_feeds, serve_site
from newsmon.flow import monitor_pass
from tests.helpers import free_port, query
from tests.helpers import write_config as write_loopback_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local


@pytest.fixture
def site(site_copy: Path) -> Iterator[SiteServer]:
    with serve_site(site_copy) as server:
        yield server


def write_config(folder: Path, server: SiteServer, dask_address: str | None) -> Path:
    folder.mkdir(exist_ok=True)
    pipeline = {"dask_address": dask_address} if dask_address else {}
    return write_loopback_config(folder, demo_feeds(server.site, server.base_url), pipeline=pipeline)


def stored(folder: Path) -> list[tuple[Any, ...]]:
    return query(
        folder,
        "SELECT url, language, text_source, platforms, topics, duplicate_of, md5(text) FROM articles ORDER BY url",
    )


def test_pass_extracts_on_the_dask_cluster_with_the_same_results(
    tmp_path: Path, site: SiteServer, cluster: LocalCluster
) -> None:
    with Client(cluster) as client, get_task_stream(client) as stream:
        on_dask = monitor_pass(str(write_config(tmp_path / "dask", site, cluster.scheduler_address)))
    local = monitor_pass(str(write_config(tmp_path / "local", site, None)))
    assert on_dask["status"] == "completed" and on_dask["articles_new"] == 20
    assert stored(tmp_path / "dask") == stored(tmp_path / "local")
    ran = [task for task in stream.data if "extract" in str(task["key"])]
    workers = set(cluster.scheduler_info["workers"])
    assert len(ran) >= 2 and {task["worker"] for task in ran} <= workers
    on_dask.pop("run_id")
    local.pop("run_id")
    assert on_dask == local


def test_unreachable_scheduler_falls_back_to_local_extraction(
    tmp_path: Path, site: SiteServer, caplog: pytest.LogCaptureFixture
) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING):
        summary = monitor_pass(str(write_config(tmp_path, site, address)))
    assert summary["status"] == "completed" and summary["articles_new"] == 20
    assert f"Dask scheduler {address} did not answer" in caplog.text
    assert "extracting pages in local processes" in caplog.text
