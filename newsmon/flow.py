"""The Prefect flow `newsmon-pass` (the deployments' entrypoint): the config is read here, once per run,
and the pass itself (flows.monitor.execute_pass) gets the parsed Config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.monitor import execute_pass, summary_to_dict
from newsmon.config import load_config


@flow(name="newsmon-pass", log_prints=True)
def monitor_pass(config_path: str, poll_all: bool = False) -> dict[str, Any]:
    """One monitoring pass over the feeds of `config_path`. Returns the pass summary as a dict."""
    summary = execute_pass(load_config(Path(config_path)), poll_all)
    return summary_to_dict(summary)
