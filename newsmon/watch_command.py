"""`newsmon watch --config FILE`: run the long-lived watcher until SIGTERM/SIGINT.

Prefect's temporary server (when no PREFECT_API_URL is set) is started once for the watcher, not per cycle.
After SIGTERM the watcher finishes the cycle in hand and delivers the outbox; if that takes longer than
`SHUTDOWN_SECONDS`, the process exits anyway with status 3 — safe, as everything not yet stored is picked up
after a restart (feed validators move only after their entries are stored; notifications wait in the outbox).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

SHUTDOWN_SECONDS = 30.0
EXIT_SHUTDOWN_TIMEOUT = 3


def _watchdog(stop: threading.Event, done: threading.Event) -> None:
    stop.wait()
    if not done.wait(SHUTDOWN_SECONDS):
        print(f"newsmon watch: did not stop within {SHUTDOWN_SECONDS:g} s of SIGTERM; exiting now", file=sys.stderr)
        os._exit(EXIT_SHUTDOWN_TIMEOUT)


def run_watch(config_path: str, early_server: object) -> int:
    """Load the config (exit 2 on errors, as for `run`), then watch until told to stop."""
    from core.errors import ConfigError, LockTimeout, WarehouseError
    from newsmon.config import load_config
    from newsmon.prefect_server import EarlyServer, hand_over

    try:
        config = load_config(Path(config_path))
    except ConfigError as exc:
        print(f"newsmon: config error: {exc}", file=sys.stderr)
        return 2
    from flows.watch import Watcher

    hand_over(early_server if isinstance(early_server, EarlyServer) else None)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop, done = threading.Event(), threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()
        watcher.wake.set()

    watcher = Watcher(config, stop)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=_watchdog, args=(stop, done), daemon=True, name="newsmon-watchdog").start()
    started = time.monotonic()

    def ready(port: int) -> None:
        host = config.watch.bind_host
        print(
            f"newsmon watch: {len(config.feeds)} feeds; http://{host}:{port}/healthz and /metrics"
            + (f"; WebSub callbacks at {config.websub.callback_base_url}/" if config.websub.enabled else "")
            + f" (ready after {time.monotonic() - started:.1f} s)",
            flush=True,
        )

    failure: list[BaseException] = []

    def loop() -> None:
        try:
            watcher.run(on_ready=ready)
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)
        finally:
            done.set()
            stop.set()

    # The loop runs in a thread of its own so that SIGTERM always reaches our handler in the main thread:
    # Prefect replaces the SIGTERM handler while a flow run executes in the main thread (and would abort
    # the cycle in hand), but cannot install it from another thread.
    thread = threading.Thread(target=loop, name="newsmon-watch-loop")
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
    if failure:
        if isinstance(failure[0], (WarehouseError, LockTimeout, OSError)):
            print(f"newsmon: watch failed: {failure[0]}", file=sys.stderr)
            return 1
        raise failure[0]
    print("newsmon watch: stopped cleanly", flush=True)
    return 0
