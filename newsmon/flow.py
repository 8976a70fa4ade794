"""The Prefect flows `newsmon-pass` and `newsmon-maintain` (the deployments' entrypoints): the config is
read here, once per run, and the work itself (flows.monitor.execute_pass, flows.maintain) gets it parsed."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow

from flows.maintain import maintain_task
from flows.monitor import execute_pass, summary_to_dict
from newsmon.config import load_config


@flow(name="newsmon-pass", log_prints=True)
def monitor_pass(config_path: str, poll_all: bool = False) -> dict[str, Any]:
    """One monitoring pass over the feeds of `config_path`. Returns the pass summary as a dict."""
    summary = execute_pass(load_config(Path(config_path)), poll_all)
    return summary_to_dict(summary)


@flow(name="newsmon-maintain", log_prints=True)
def maintain_lake(config_path: str) -> dict[str, Any]:
    """Warehouse upkeep (see storage.maintenance). Returns file and snapshot counts before and after."""
    config = load_config(Path(config_path))
    return asdict(maintain_task(config.warehouse, config.maintenance))
