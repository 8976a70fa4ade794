"""The private-address (SSRF) guard: which URLs and peer addresses a fetch may reach.

The check happens where the socket is opened (a guarded httpcore network backend): the host name is
resolved once, every resolved address must be public, and the connection goes to exactly the address
that was checked, so DNS rebinding between check and connect is not possible. Every redirect hop opens
its own connection and goes through the same check.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

from core.errors import AddressRefused
from core.urls import scheme_refusal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class HostAllowList:
    """`network.allow_hosts`: host names, IP addresses or CIDR networks exempt from the guard."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.names: frozenset[str] = frozenset()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        names: set[str] = set()
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        self.names = frozenset(names)
        self.networks = tuple(networks)

    def allows_host(self, host: str) -> bool:
        host = host.lower().rstrip(".").strip("[]")
        if host in self.names:
            return True
        try:
            return self.allows_address(ipaddress.ip_address(host))
        except ValueError:
            return False

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def is_public_address(address: IPAddress) -> bool:
    """Globally routable unicast only: no loopback, private, link-local (cloud metadata), CGNAT, reserved."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_scheme(url: str) -> None:
    refusal = scheme_refusal(url)
    if refusal is not None:
        raise AddressRefused(refusal)


def resolve_checked(host: str, port: int, allow: HostAllowList) -> str:
    """The address to connect to for host:port, or AddressRefused when any resolved address is private."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if allow.allows_host(host):
        return str(addresses[0])
    for address in addresses:
        if not (is_public_address(address) or allow.allows_address(address)):
            raise AddressRefused(
                f"host {host!r} resolves to non-public address {address} "
                "(add it to network.allow_hosts to fetch it anyway)"
            )
    return str(addresses[0])


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses the guard accepted."""

    def __init__(self, allow: HostAllowList) -> None:
        self._allow = allow

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        address = resolve_checked(host, port, self._allow)
        return super().connect_tcp(address, port, timeout, local_address, socket_options)
