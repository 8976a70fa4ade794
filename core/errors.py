"""One exception hierarchy for newsmon: every error says whether trying again can help.

- `TransientError`: the same action may succeed later without anyone changing anything (a lock held by
  another pass, a full disk, a server that is down). A later pass retries.
- `PermanentError`: something must be fixed first (the config, the URL, the newsmon version).
The CLI and the flows catch these base classes, never a hand-picked list.
"""

from __future__ import annotations

from core.records import ErrorKind, PassSummary


def describe(exc: BaseException, limit: int = 300) -> str:
    """'ExceptionType: message', cut to `limit` characters: how a recorded error names what went wrong."""
    return f"{type(exc).__name__}: {exc}"[:limit]


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose."""

    transient: bool = False


class TransientError(NewsmonError):
    """Trying again later can help; nothing needs to change."""

    transient = True


class PermanentError(NewsmonError):
    """Trying again will fail the same way until something is fixed."""


class ConfigError(PermanentError):
    """A config problem, phrased as one line: '<file>: <key>: <problem>'."""


class TaxonomyError(PermanentError):
    """A taxonomy document problem, naming the source and the key."""


class KeywordError(PermanentError, ValueError):
    """An alert keyword that is not a valid RE2 regular expression."""


class WarehouseError(NewsmonError):
    """The warehouse file cannot be used; the subclass says whether that may pass."""


class WarehouseUnavailable(WarehouseError, TransientError):
    """Locked by another process for too long, read-only or disk full: a later pass retries."""


class WarehouseMissing(WarehouseError, PermanentError):
    """The warehouse file does not exist yet: run a pass first."""


class WarehouseCorrupt(WarehouseError, PermanentError):
    """The warehouse's catalog file is damaged (truncated, overwritten) or is not an SQLite file at all."""


class WarehouseNeedsMigration(WarehouseError, PermanentError):
    """The warehouse is a single-file DuckDB database of an earlier release: run `newsmon migrate` once."""


class WarehouseVersionError(WarehouseError, PermanentError):
    """The warehouse was written by a newer newsmon: upgrade newsmon."""


class NoFeedRead(TransientError):
    """A pass polled feeds and could read none of them (a total outage): the pass is recorded as failed,
    the flow run fails and `newsmon run` exits 3. `summary` is the pass's summary."""

    def __init__(self, message: str, summary: PassSummary) -> None:
        super().__init__(message)
        self.summary = summary

    def __reduce__(self) -> tuple[type[NoFeedRead], tuple[str, PassSummary]]:  # survives pickling with its summary
        return NoFeedRead, (str(self), self.summary)


class LockTimeout(TransientError):
    """Another writer kept the warehouse's write lock longer than we were willing to wait."""


class AddressRefused(PermanentError):
    """A URL or address the network guard will not fetch; `reason` says why (never a transient error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchError(NewsmonError):
    """A fetch that did not produce a usable response. `kind` says whether trying again can help."""

    def __init__(
        self, kind: ErrorKind, reason: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.status = status
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.kind == "transient"
