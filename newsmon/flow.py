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


@flow(name="newsmon-watch", log_prints=True)
def watch(config_path: str) -> None:
    """`newsmon watch` (the CLI runs this flow) and the deployment `newsmon-watch/watch`: one flow run for
    the life of the watcher, one `watch-cycle` task run per processing cycle with work. Stops cleanly on
    SIGTERM (CLI) or when the run is cancelled (deployment)."""
    from newsmon.watch_command import STOP, WatchFailed, watch_until_stopped

    code = watch_until_stopped(load_config(Path(config_path)), STOP)
    if code:
        raise WatchFailed(code)
