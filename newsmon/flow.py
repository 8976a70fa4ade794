"""The Prefect flows `newsmon-pass` and `newsmon-maintain` (the deployments' entrypoints) and how the CLI
runs them.

The config is parsed once per process: a deployment's run reads the file named by its `config_path`
parameter; `newsmon run` and the demo, which have already loaded and validated it, hand their Config to
the flow in-process (`run_pass`). The flow run records only the path, never the parsed config (alert URLs
in it may hold tokens).
"""

from __future__ import annotations

import contextvars
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow

from core.settings import Config
from flows.maintain import maintain_task
from flows.monitor import execute_pass, summary_to_dict
from newsmon.config import load_config

_LOADED: contextvars.ContextVar[Config | None] = contextvars.ContextVar("newsmon_loaded_config", default=None)


@flow(name="newsmon-pass", log_prints=True)
def monitor_pass(config_path: str, poll_all: bool = False) -> dict[str, Any]:
    """One monitoring pass over the feeds of `config_path`. Returns the pass summary as a dict."""
    summary = execute_pass(_config_for(Path(config_path)), poll_all)
    return summary_to_dict(summary)


def _config_for(path: Path) -> Config:
    loaded = _LOADED.get()
    if loaded is not None and loaded.path == path.resolve():
        return loaded
    return load_config(path)


def run_pass(config: Config, poll_all: bool = False) -> dict[str, Any]:
    """Run the `newsmon-pass` flow on a config this process has already loaded (not read again)."""
    token = _LOADED.set(config)
    try:
        return monitor_pass(str(config.path), poll_all)
    finally:
        _LOADED.reset(token)


@flow(name="newsmon-maintain", log_prints=True)
def maintain_lake(config_path: str) -> dict[str, Any]:
    """Warehouse upkeep (see storage.maintenance). Returns file and snapshot counts before and after."""
    config = _config_for(Path(config_path))
    return asdict(maintain_task(config.warehouse, config.maintenance))


def run_maintenance(config: Config) -> dict[str, Any]:
    """Run the `newsmon-maintain` flow on a config this process has already loaded."""
    token = _LOADED.set(config)
    try:
        return maintain_lake(str(config.path))
    finally:
        _LOADED.reset(token)
