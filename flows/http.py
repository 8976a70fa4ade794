"""The one HTTP client every fetch goes through: bounded, polite, guarded, with transient-error retries.

Bounds: connect/read timeouts plus a wall-clock deadline per request from the moment it is sent, status line
and headers included (flows.deadline: slow-drip servers), a byte cap on
the decoded body (so compression bombs stop at the cap), a redirect limit with loop detection. Politeness:
a per-host concurrency limit and minimum gap between requests, Retry-After honoured (capped), jittered
exponential backoff. Safety: the private-address guard on every hop (flows.netguard), no proxies from the
environment (they would bypass the guard).
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from core.errors import AddressRefused, FetchError, describe
from core.records import HttpResponse
from core.settings import HttpPolicy
from flows.deadline import deadline_passed, request_deadline
from flows.netguard import GuardedTransport, HostAllowList, check_scheme

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _HostGate:
    """Per-host concurrency limit and minimum interval between request starts."""

    def __init__(self, concurrency: int, min_interval: float) -> None:
        self._concurrency = max(1, concurrency)
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._lock:
            semaphore = self._semaphores.setdefault(host, threading.BoundedSemaphore(self._concurrency))
        with semaphore:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + self._min_interval
            if start > now:
                time.sleep(start - now)
            yield


class HttpFetcher:
    """Thread-safe; share one per pass. Use as a context manager or call close()."""

    def __init__(self, policy: HttpPolicy) -> None:
        self.policy = policy
        timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout, pool=policy.deadline_seconds)
        self._client = httpx.Client(
            transport=GuardedTransport(HostAllowList(policy.allow_hosts), policy.max_connections),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._gate = _HostGate(policy.per_host_concurrency, policy.per_host_min_interval)

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, max_bytes: int, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """GET with retries for transient errors. Returns 2xx and 304 responses; raises FetchError."""
        attempt = 0
        while True:
            try:
                return self._get_following_redirects(url, max_bytes, headers or {})
            except FetchError as error:
                wait = self._retry_wait(error, attempt)
                if wait is None:
                    raise
                time.sleep(wait)
                attempt += 1

    def post_form(self, url: str, form: Mapping[str, str], max_bytes: int = 65536) -> HttpResponse:
        """One POST of a form (WebSub hub requests), guarded like a GET; no redirects, no retries.
        Returns 2xx responses (and 3xx as they are); raises FetchError otherwise."""
        with _as_fetch_errors():
            check_scheme(url)
            host = urlsplit(url).hostname or ""
            with self._gate.slot(host), request_deadline(self.policy.deadline_seconds):
                try:
                    with self._client.stream("POST", url, data=dict(form)) as response:
                        return self._read(url, response, max_bytes)
                except httpx.TimeoutException as exc:
                    raise self._timed_out(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover - the context manager only re-raises

    def _retry_wait(self, error: FetchError, attempt: int) -> float | None:
        if error.kind != "transient" or attempt >= self.policy.retries:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.policy.retry_after_cap_seconds else None
        base: float = self.policy.backoff_seconds * (2**attempt)
        return base + random.uniform(0, base / 2)  # noqa: S311 - jitter, not cryptography

    def _get_following_redirects(self, url: str, max_bytes: int, headers: Mapping[str, str]) -> HttpResponse:
        seen: list[str] = []
        current = url
        while True:
            response = self._get_once(current, max_bytes, headers)
            if response.status not in _REDIRECTS:
                return HttpResponse(url, current, response.status, response.headers, response.body)
            location = response.header("location")
            if not location:
                raise FetchError("permanent", f"HTTP {response.status} redirect without a Location header")
            seen.append(current)
            current = urljoin(current, location.strip())
            if current in seen:
                raise FetchError("permanent", f"redirect loop: {' -> '.join([*seen, current])[:500]}")
            if len(seen) > self.policy.max_redirects:
                raise FetchError("permanent", f"more than {self.policy.max_redirects} redirects")

    def _get_once(self, url: str, max_bytes: int, headers: Mapping[str, str]) -> HttpResponse:
        with _as_fetch_errors():
            check_scheme(url)
            host = urlsplit(url).hostname or ""
            with self._gate.slot(host), request_deadline(self.policy.deadline_seconds):
                try:
                    with self._client.stream("GET", url, headers=dict(headers)) as response:
                        return self._read(url, response, max_bytes)
                except httpx.TimeoutException as exc:
                    raise self._timed_out(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover - the context manager only re-raises

    def _timed_out(self, exc: httpx.TimeoutException) -> FetchError:
        if deadline_passed():
            return FetchError("transient", f"response took longer than {self.policy.deadline_seconds:g} s")
        return FetchError("transient", f"timed out ({type(exc).__name__})")

    def _read(self, url: str, response: httpx.Response, max_bytes: int) -> HttpResponse:
        status = response.status_code
        pairs = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)
        if status in _TRANSIENT_STATUS or (status >= 500 and status != 501):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise FetchError("transient", f"HTTP {status}", status, retry_after)
        if status >= 400 or status == 501:
            raise FetchError("permanent", f"HTTP {status}", status)
        if status in _REDIRECTS or status == 304:
            return HttpResponse(url, url, status, pairs, b"")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError("permanent", f"response too large: {declared} bytes declared (limit {max_bytes})")
        return HttpResponse(url, url, status, pairs, self._read_body(response, max_bytes))

    def _read_body(self, response: httpx.Response, max_bytes: int) -> bytes:
        """Raw bytes, decompressed here (not by httpx) so the cap applies to the output of every chunk and a
        truncated stream is detected instead of silently returning half a document."""
        decoder = _Decompressor(response.headers.get("content-encoding", ""), max_bytes)
        chunks: list[bytes] = []
        for raw in response.iter_raw():
            chunks.append(decoder.feed(raw))
            if deadline_passed():
                raise FetchError("transient", f"response took longer than {self.policy.deadline_seconds:g} s")
        chunks.append(decoder.finish())
        return b"".join(chunks)


@contextmanager
def _as_fetch_errors() -> Iterator[None]:
    """Network and URL errors as FetchError with the kind that says whether trying again can help."""
    try:
        yield
    except AddressRefused as refused:
        raise FetchError("refused", refused.reason) from None
    except httpx.TimeoutException as exc:
        raise FetchError("transient", f"timed out ({type(exc).__name__})") from None
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise FetchError("transient", describe(exc)) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
        raise FetchError("permanent", f"invalid URL: {exc}"[:300]) from None


class _Decompressor:
    """gzip / deflate / identity with an output cap; raises FetchError on bombs, corruption, truncation."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise FetchError("permanent", f"unsupported Content-Encoding {encoding!r}")
        self._max = max_bytes
        self._size = 0

    def _count(self, data: bytes) -> bytes:
        self._size += len(data)
        if self._size > self._max:
            raise FetchError("permanent", f"response too large: over {self._max} bytes (decompressed)")
        return data

    def feed(self, raw: bytes) -> bytes:
        if self._zlib is None:
            return self._count(raw)
        try:
            # Never inflate more than the remaining allowance (+1 to detect overflow) in one call.
            out = self._zlib.decompress(raw, self._max - self._size + 1)
        except zlib.error as exc:
            raise FetchError("transient", f"corrupt compressed body: {exc}") from None
        if self._zlib.unconsumed_tail:
            raise FetchError("permanent", f"response too large: over {self._max} bytes (decompressed)")
        return self._count(out)

    def finish(self) -> bytes:
        if self._zlib is None:
            return b""
        if not self._zlib.eof:
            raise FetchError("transient", "truncated compressed body (the stream ended early)")
        return self._count(self._zlib.flush())
