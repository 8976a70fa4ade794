"""`newsmon watch --config FILE`: run the long-lived watcher until SIGTERM/SIGINT.

Prefect's temporary server (when no PREFECT_API_URL is set) is started once for the watcher, not per cycle.
After SIGTERM the watcher finishes the cycle in hand and delivers the outbox; if that takes longer than
`SHUTDOWN_SECONDS`, the process exits anyway with status 3 — safe, as everything not yet stored is picked up
after a restart (feed validators move only after their entries are stored; notifications wait in the outbox).
"""

from __future__ import annotations

import contextvars
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Config

SHUTDOWN_SECONDS = 30.0
EXIT_SHUTDOWN_TIMEOUT = 3


def _watchdog(stop: threading.Event, done: threading.Event) -> None:
    stop.wait()
    if not done.wait(SHUTDOWN_SECONDS):
        print(f"newsmon watch: did not stop within {SHUTDOWN_SECONDS:g} s of SIGTERM; exiting now", file=sys.stderr)
        os._exit(EXIT_SHUTDOWN_TIMEOUT)


STOP = threading.Event()  # set by SIGTERM/SIGINT; the watcher finishes the cycle in hand and returns
STARTED = [time.monotonic()]  # when this process began, for the "ready after" line


class WatchFailed(RuntimeError):
    """The watcher stopped with a non-zero status (the reason was printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"newsmon watch stopped with status {code} (see the log above)")
        self.code = code


def run_watch(config_path: str, early_server: object) -> int:
    """`newsmon watch`: load the config (exit 2 on errors, as for `run`), then run the flow `newsmon-watch`
    (newsmon.flow.watch) in a thread until SIGTERM/SIGINT. Signals are handled here, in the main thread:
    Prefect replaces the SIGTERM handler while a flow runs in the main thread (and would abort the cycle in
    hand), but cannot install one from another thread."""
    from core.errors import ConfigError
    from newsmon.config import load_config
    from newsmon.prefect_server import EarlyServer, hand_over

    try:
        config = load_config(Path(config_path))
    except ConfigError as exc:
        print(f"newsmon: config error: {exc}", file=sys.stderr)
        return 2
    hand_over(early_server if isinstance(early_server, EarlyServer) else None)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the log

    def on_signal(number: int, frame: FrameType | None) -> None:
        STOP.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    from newsmon.flow import run_watch_flow

    outcome: list[int | BaseException] = []

    def in_thread() -> None:
        try:
            run_watch_flow(config)
            outcome.append(0)
        except WatchFailed as failed:
            outcome.append(failed.code)
        except BaseException as exc:  # re-raised in the main thread
            outcome.append(exc)

    thread = threading.Thread(target=in_thread, name="newsmon-watch-flow")
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
    result = outcome[0] if outcome else 1
    if isinstance(result, BaseException):
        raise result
    return result


def watch_until_stopped(config: Config, stop: threading.Event) -> int:
    """Run the watcher in a thread of its own (carrying the caller's Prefect flow-run context, so each
    cycle is a task run of that flow run) until `stop` is set; 0 when it stopped cleanly, 1 when the
    warehouse could not be used. The calling thread only waits: when it is a deployment's main thread,
    Prefect's TerminationSignal (cancel, SIGTERM) stops the watcher cleanly before it propagates."""
    from core.errors import LockTimeout, WarehouseError
    from flows.watch import Watcher

    done = threading.Event()
    failure: list[BaseException] = []
    watcher = Watcher(config, stop)

    def ready(port: int) -> None:
        websub = f"; WebSub callbacks at {config.websub.callback_url}/" if config.websub.enabled else ""
        print(
            f"newsmon watch: {len(config.feeds)} feeds; http://{config.watch.bind_host}:{port}/healthz and "
            f"/metrics{websub} (ready {time.monotonic() - STARTED[0]:.1f} s after start)",
            flush=True,
        )

    def loop() -> None:
        try:
            watcher.run(on_ready=ready)
        except BaseException as exc:  # reported by the waiting thread
            failure.append(exc)
        finally:
            done.set()
            stop.set()

    threading.Thread(target=_watchdog, args=(stop, done), daemon=True, name="newsmon-watchdog").start()
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(loop,), name="newsmon-watch-loop")
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
            if stop.is_set():
                watcher.wake.set()
    except BaseException:  # e.g. Prefect's TerminationSignal when the watcher runs as a deployment
        stop.set()
        watcher.wake.set()
        thread.join(SHUTDOWN_SECONDS)
        raise
    if failure:
        if isinstance(failure[0], (WarehouseError, LockTimeout, OSError)):
            print(f"newsmon: watch failed: {failure[0]}", file=sys.stderr)
            return 1
        raise failure[0]
    print("newsmon watch: stopped cleanly", flush=True)
    return 0
