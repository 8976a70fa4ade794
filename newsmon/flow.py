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

from prefect import flow, get_run_logger
from prefect.states import Failed

from core.errors import NewsmonError
from core.settings import Config
from flows.maintain import maintain_task
from flows.monitor import execute_pass, summary_to_dict
from newsmon.config import load_config

_LOADED: contextvars.ContextVar[Config | None] = contextvars.ContextVar("newsmon_loaded_config", default=None)


@flow(name="newsmon-pass", log_prints=True)
def monitor_pass(config_path: str, poll_all: bool = False) -> dict[str, Any]:
    """One monitoring pass over the feeds of `config_path`. Returns the pass summary as a dict.

    An expected failure (a NewsmonError: the warehouse cannot be used, no feed could be read, …) ends the
    flow run Failed with its one-line message and no traceback; calling the flow re-raises that error."""
    try:
        summary = execute_pass(_config_for(Path(config_path)), poll_all)
    except NewsmonError as exc:
        get_run_logger().error("%s", exc)
        # Prefect makes a returned State the run's final state (and logs no traceback for it).
        return Failed(message=str(exc), data=exc)  # type: ignore[return-value]
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


@flow(name="newsmon-watch", log_prints=True)
def watch(config_path: str) -> None:
    """`newsmon watch` (the CLI runs this flow) and the deployment `newsmon-watch/watch`: one flow run for
    the life of the watcher, one `watch-cycle` task run per processing cycle with work. Stops cleanly on
    SIGTERM (CLI) or when the run is cancelled (deployment)."""
    from newsmon.watch_command import STOP, WatchFailed, watch_until_stopped

    code = watch_until_stopped(_config_for(Path(config_path)), STOP)
    if code:
        raise WatchFailed(code)


def run_watch_flow(config: Config) -> None:
    """Run the `newsmon-watch` flow on a config this process has already loaded (not read again)."""
    token = _LOADED.set(config)
    try:
        watch(str(config.path))
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
