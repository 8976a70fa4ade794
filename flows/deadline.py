"""A wall-clock deadline for each HTTP request, from the moment it is sent to its last body byte.

httpx only bounds each socket operation (connect, one read, one write), so a server that trickles its status
line, headers or body a byte at a time is never cut off by them. Here the network streams themselves know
the current request's deadline (per thread: httpcore's sync client does a request's I/O in the thread that
sent it) and give every connect, read, write and TLS handshake at most the time that is left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpcore

_CURRENT = threading.local()


class DeadlinePassed(httpcore.ReadTimeout):
    """The request's deadline passed (a timeout, so callers treat it as transient)."""


@contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Every network operation of this thread inside the block shares one deadline `seconds` from now."""
    previous = getattr(_CURRENT, "at", None)
    _CURRENT.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _CURRENT.at = previous


def deadline_passed() -> bool:
    at: float | None = getattr(_CURRENT, "at", None)
    return at is not None and time.monotonic() >= at


def bounded(timeout: float | None) -> float | None:
    """`timeout` shortened to what is left of the current deadline; raises DeadlinePassed when none is."""
    at: float | None = getattr(_CURRENT, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise DeadlinePassed("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps a network backend (e.g. the address guard's) so that its streams keep the deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.connect_tcp(host, port, bounded(timeout), local_address, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
