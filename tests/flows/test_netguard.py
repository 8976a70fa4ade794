"""GuardedTransport is an ordinary httpx transport: any httpx.Client given it as `transport=` gets the
address guard, and httpcore's errors arrive as the httpx errors callers catch."""

from __future__ import annotations

import httpx
import pytest
from pytest_httpserver import HTTPServer

from core.errors import AddressRefused
from flows.netguard import GuardedTransport, HostAllowList
from tests.helpers import free_port


def client(*allow: str) -> httpx.Client:
    return httpx.Client(transport=GuardedTransport(HostAllowList(allow), max_connections=2), trust_env=False)


def test_an_allowed_host_is_fetched_through_the_transport(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("hello", headers={"X-Test": "1"})
    with client("127.0.0.1") as http:
        response = http.get(httpserver.url_for("/a"))
    assert (response.status_code, response.text, response.headers["x-test"]) == (200, "hello", "1")


def test_loopback_is_refused_before_connecting(httpserver: HTTPServer) -> None:
    with client() as http, pytest.raises(AddressRefused, match=r"non-public address 127\.0\.0\.1"):
        http.get(httpserver.url_for("/a"))
    assert httpserver.log == []


def test_connection_errors_are_httpx_errors() -> None:
    with client("127.0.0.1") as http, pytest.raises(httpx.ConnectError):
        http.get(f"http://127.0.0.1:{free_port()}/")
