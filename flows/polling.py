"""When is a feed due? Pure policy over the feed's stored state (Media Cloud / Miniflux style).

A feed is due unless it asked for a delay (Retry-After, RSS `ttl`, Cache-Control max-age), bounded by the
configured minimum/maximum interval, or it is backing off after failures: the back-off grows linearly with
consecutive failures (permanent errors count double) up to a cap, and a feed is never disabled.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from core.records import ErrorKind
from core.settings import PollingPolicy

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(no-cache|no-store)\b", re.IGNORECASE)


def cache_max_age(cache_control: str | None) -> int | None:
    if not cache_control or _NO_CACHE.search(cache_control):
        return None
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else None


def next_poll_after_success(now: datetime, policy: PollingPolicy, requested_delay: float | None) -> datetime | None:
    """When the feed may be polled again after a successful poll; None means 'at the next run'."""
    delay = max(policy.min_interval_seconds, min(requested_delay or 0.0, policy.max_interval_seconds))
    return now + timedelta(seconds=delay) if delay > 0 else None


def failure_weight(kind: ErrorKind | None) -> int:
    return 2 if kind in ("permanent", "refused") else 1


def next_poll_after_failure(now: datetime, policy: PollingPolicy, failures: int, retry_after: float | None) -> datetime:
    """Linear back-off on the weighted failure count, capped; a Retry-After longer than that wins."""
    backoff = min(policy.backoff_cap_seconds, policy.backoff_step_seconds * max(0, failures - 1))
    delay = max(backoff, min(retry_after or 0.0, policy.max_interval_seconds), policy.min_interval_seconds)
    return now + timedelta(seconds=delay)


def is_due(next_poll_at: datetime | None, now: datetime) -> bool:
    return next_poll_at is None or next_poll_at <= now
