"""The private-address (SSRF) guard: which URLs and peer addresses a fetch may reach.

The check happens where the socket is opened: `GuardedTransport` is an httpx transport (given to the
client as `transport=`) over an httpcore connection pool whose network backend resolves the host name once,
requires every resolved address to be public, and connects to exactly the address that was checked, so DNS
rebinding between check and connect is not possible. Every redirect hop opens its own connection and goes
through the same check.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

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


# httpcore's exceptions as the httpx ones callers catch, most specific first (what httpx's own transport does).
_HTTPCORE_TO_HTTPX: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in _HTTPCORE_TO_HTTPX:
            if isinstance(exc, core_error):
                raise httpx_error(str(exc)) from exc
        raise


class _GuardedStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport over an httpcore connection pool whose sockets only reach addresses the guard
    accepted (httpx's own HTTPTransport has no way to choose the pool's network backend)."""

    def __init__(self, allow: HostAllowList, max_connections: int) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            network_backend=GuardedBackend(allow),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_GuardedStream(response.stream),  # type: ignore[arg-type]  # sync pool: an iterable
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()
