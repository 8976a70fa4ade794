"""The private-address rule for notification redirects.

Notify URLs are written by the operator and trusted, whatever address they name. Apprise sends through
`requests`, which follows redirects on its own, so a receiver answering 307 could send the message (and its
headers) to any address, the cloud metadata service included. While a message is sent, every socket
connection the sending thread opens is checked (through a Python audit hook, which sees every
`socket.connect` of the process): it may go to the configured host's own addresses, to public addresses, or
to what `network.allow_hosts` allows — the same rule as for links. Anything else is refused before the
connection is made.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flows.netguard import HostAllowList, is_public_address

_ACTIVE = threading.local()


class RedirectRefused(ConnectionRefusedError):
    """An OSError, so the HTTP stack treats it as a failed connection and the send fails cleanly."""


@dataclass
class _Guard:
    trusted: frozenset[str]
    allow: HostAllowList
    refused: list[str] = field(default_factory=list)

    def check(self, host: str) -> None:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return  # not an IP socket (a Unix socket path)
        if str(address) in self.trusted or is_public_address(address) or self.allow.allows_address(address):
            return
        reason = (
            f"a redirect led to the non-public address {address}, which is not fetched "
            "(add it to network.allow_hosts to allow it)"
        )
        self.refused.append(reason)
        raise RedirectRefused(reason)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    guard: _Guard | None = getattr(_ACTIVE, "guard", None)
    if guard is None or event != "socket.connect":
        return
    address = args[1]
    if isinstance(address, tuple) and address:
        guard.check(str(address[0]))


sys.addaudithook(_audit)


def _addresses(host: str | None) -> frozenset[str]:
    if not host:
        return frozenset()
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return frozenset()
    return frozenset(str(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])) for info in infos)


@contextmanager
def private_redirects_refused(configured_host: str | None, allow: HostAllowList) -> Iterator[list[str]]:
    """While inside, this thread's connections obey the rule above; yields the list of refusals."""
    guard = _Guard(_addresses(configured_host), allow)
    _ACTIVE.guard = guard
    try:
        yield guard.refused
    finally:
        _ACTIVE.guard = None
