"""The Prefect flow `newsmon-pass` (the deployments' entrypoint): the config is read here, once per run,
and the pass itself (flows.monitor.execute_pass) gets the parsed Config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Failed

from core.errors import NewsmonError
from flows.monitor import execute_pass, summary_to_dict
from newsmon.config import load_config


@flow(name="newsmon-pass", log_prints=True)
def monitor_pass(config_path: str, poll_all: bool = False) -> dict[str, Any]:
    """One monitoring pass over the feeds of `config_path`. Returns the pass summary as a dict.

    An expected failure (a NewsmonError: the warehouse cannot be used, no feed could be read, …) ends the
    flow run Failed with its one-line message and no traceback; calling the flow re-raises that error."""
    try:
        summary = execute_pass(load_config(Path(config_path)), poll_all)
    except NewsmonError as exc:
        get_run_logger().error("%s", exc)
        # Prefect makes a returned State the run's final state (and logs no traceback for it).
        return Failed(message=str(exc), data=exc)  # type: ignore[return-value]
    return summary_to_dict(summary)
