"""`newsmon serve`: scheduled passes from this process, through a Prefect server that must be running.

Prefect's own `flow.serve` stops badly on SIGTERM: its handler calls the runner's `stop()` from inside the
event loop, which only creates the `astop` coroutine ("coroutine 'Runner.astop' was never awaited") and then
raises SystemExit in the middle of the loop. Here the runner is driven directly and SIGTERM/SIGINT schedule
`astop` on the loop, so the process stops within seconds, quietly, after the run in progress (if any) is
cancelled by Prefect's runner like any other cancellation.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from typing import Any

import httpx
from prefect import Flow
from prefect.logging import get_logger
from prefect.runner import Runner
from prefect.settings import PREFECT_API_URL

HEALTH_TIMEOUT_SECONDS = 5.0


class ServeError(Exception):
    """`newsmon serve` cannot start; the message says what to do."""


@dataclass(frozen=True)
class ServeRequest:
    name: str
    cron: str
    parameters: dict[str, Any]


def require_prefect_server() -> str:
    """The API URL of a Prefect server that answers, or a ServeError that says how to get one."""
    url = PREFECT_API_URL.value()
    if not url:
        raise ServeError(
            "serve needs a running Prefect server to keep its schedule and runs: start one with "
            "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api (or schedule "
            "`newsmon run` with cron, which needs no server)"
        )
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=HEALTH_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise ServeError(f"no Prefect server answers at PREFECT_API_URL={url} ({exc}); is it running?") from None
    if response.status_code != 200:
        raise ServeError(f"the Prefect server at PREFECT_API_URL={url} answered HTTP {response.status_code}")
    return str(url)


class _Runner(Runner):
    """A runner that stops on its own event loop on SIGTERM/SIGINT instead of exiting inside it."""

    _stop_task: asyncio.Future[None] | None = None

    def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
        self.stop_soon()

    def stop_soon(self) -> None:
        if self.started and self._stop_task is None:
            get_logger("newsmon.serve").info("stopping: no new runs start; a run in progress is cancelled")
            self._stop_task = asyncio.ensure_future(self.astop())


async def _serve(flow: Flow[..., Any], request: ServeRequest) -> None:
    runner = _Runner(name=request.name)  # pauses the schedule when it stops, like flow.serve
    deployment = await flow.ato_deployment(
        name=request.name, cron=request.cron, parameters=request.parameters, tags=["newsmon"]
    )
    await runner.aadd_deployment(deployment)
    print(
        f"serving deployment {flow.name}/{request.name} on cron {request.cron!r}; "
        f"run it now with `prefect deployment run {flow.name}/{request.name}`; stop with Ctrl-C or SIGTERM",
        flush=True,
    )
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, runner.stop_soon)
    starting = asyncio.ensure_future(runner.start())
    await asyncio.sleep(0)  # start() has installed its SIGTERM handler: route it to the loop as well
    loop.add_signal_handler(signal.SIGTERM, runner.stop_soon)
    await starting


def serve(flow: Flow[..., Any], request: ServeRequest) -> None:
    """Register the deployment and run it on its schedule until SIGTERM or Ctrl-C."""
    asyncio.run(_serve(flow, request))
