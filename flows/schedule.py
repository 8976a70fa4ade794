"""Adaptive per-feed polling for `newsmon watch`: when to poll a feed next, and why. Pure: no I/O, no clock,
no randomness of its own (the caller passes `now` and a uniform random number for the jitter).

The interval combines what the anchors do:
- entry frequency (Miniflux): 7 days / new entries published in the last 7 days, x `factor`; a feed with no
  entry that week gets the maximum interval;
- yield (Media Cloud): the smoothed share of new URLs among a poll's entries; mostly new halves the interval
  (we are missing entries between polls), mostly known doubles it;
- validators: the smoothed share of polls answered 304 / same body lengthens it up to x1.5;
- the feed's own requests are floors: RSS `ttl`, `sy:updatePeriod`/`sy:updateFrequency`,
  `Cache-Control: max-age`, `Retry-After`;
- a feed whose WebSub subscription is live only needs a safety poll (`push_poll_interval`);
- failures back off linearly on the weighted failure count (flows.polling), never disabling a feed;
- bounded by `min_interval_seconds` (Miniflux 5 min; NewsBlur's floor for its busiest feeds is 6 min) and
  `max_interval_seconds` (24 h), then jittered by +/- `jitter` so feeds added together drift apart.
Per-host politeness (concurrency, minimum gap) stays in the HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from core.records import FeedHistory, Schedule
from core.settings import ScheduleSettings

WEEK_SECONDS = 7 * 24 * 3600.0
PollOutcome = Literal["ok", "unchanged", "failed"]


@dataclass(frozen=True)
class PollObservation:
    """One poll's outcome as the schedule needs it."""

    outcome: PollOutcome
    entries_seen: int = 0
    entries_new: int = 0
    entries_last_week: int = 0  # entries of this feed published (or first seen) in the last 7 days
    ttl_seconds: float | None = None
    update_period_seconds: float | None = None
    max_age_seconds: float | None = None
    retry_after_seconds: float | None = None
    failures: int = 0  # weighted consecutive failures, this poll included
    error_kind: str | None = None  # transient / permanent / refused
    pushed: bool = False  # a live WebSub subscription delivers this feed


def observe(history: FeedHistory, seen: PollObservation, settings: ScheduleSettings) -> FeedHistory:
    """The history after one more poll: yield and 304 averages move by `smoothing`."""
    if seen.outcome == "failed":
        return replace(history, polls=history.polls + 1)
    weight = settings.smoothing
    unchanged = 1.0 if seen.outcome == "unchanged" else 0.0
    unchanged_ratio = (1 - weight) * history.unchanged_ratio + weight * unchanged
    yield_ratio = history.yield_ratio
    if seen.outcome == "ok" and seen.entries_seen > 0:
        share = min(1.0, seen.entries_new / seen.entries_seen)
        yield_ratio = share if yield_ratio is None else (1 - weight) * yield_ratio + weight * share
    return FeedHistory(history.polls + 1, yield_ratio, unchanged_ratio, history.interval_seconds)


def _human(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _frequency_interval(history: FeedHistory, seen: PollObservation, settings: ScheduleSettings) -> tuple[float, str]:
    if seen.entries_last_week > 0:
        base = WEEK_SECONDS / seen.entries_last_week * settings.factor
        return base, f"{seen.entries_last_week} entries last week -> {_human(base)}"
    if history.polls <= 1 and seen.entries_seen == 0:
        return settings.initial_interval_seconds, f"no history yet -> {_human(settings.initial_interval_seconds)}"
    return settings.max_interval_seconds, "no entry last week"


def _feedback(interval: float, history: FeedHistory, reasons: list[str]) -> float:
    if history.yield_ratio is not None:
        scale = 2.0 ** (1.0 - 2.0 * history.yield_ratio)  # all new: x0.5, half: x1, none: x2
        if abs(scale - 1.0) >= 0.05:
            interval *= scale
            reasons.append(f"{history.yield_ratio:.0%} of entries new x{scale:.2f}")
    if history.unchanged_ratio >= 0.05:
        scale = 1.0 + 0.5 * history.unchanged_ratio
        interval *= scale
        reasons.append(f"{history.unchanged_ratio:.0%} unchanged polls x{scale:.2f}")
    return interval


def _floors(seen: PollObservation) -> list[tuple[float, str]]:
    asked = [
        (seen.ttl_seconds, "ttl"),
        (seen.update_period_seconds, "sy:updatePeriod"),
        (seen.max_age_seconds, "Cache-Control max-age"),
        (seen.retry_after_seconds, "Retry-After"),
    ]
    return [(float(value), name) for value, name in asked if value is not None and value > 0]


def _failure_interval(seen: PollObservation, settings: ScheduleSettings) -> tuple[float, str]:
    backoff = min(settings.backoff_cap_seconds, settings.backoff_step_seconds * max(0, seen.failures - 1))
    kind = f"{seen.error_kind} " if seen.error_kind else ""
    return backoff, f"failing ({kind}error, {seen.failures} weighted failures) -> back-off {_human(backoff)}"


def _base_interval(history: FeedHistory, seen: PollObservation, settings: ScheduleSettings) -> tuple[float, list[str]]:
    if seen.outcome == "failed":
        interval, why = _failure_interval(seen, settings)
        return interval, [why]
    interval, why = _frequency_interval(history, seen, settings)
    reasons = [why]
    interval = _feedback(interval, history, reasons)
    if seen.pushed and interval < settings.push_poll_interval_seconds:
        interval = settings.push_poll_interval_seconds
        reasons.append(f"WebSub pushes it: safety poll every {_human(interval)}")
    return interval, reasons


def next_poll(
    history: FeedHistory, seen: PollObservation, now: datetime, settings: ScheduleSettings, unit_random: float
) -> tuple[Schedule, FeedHistory]:
    """The next poll after `seen` (already folded into `history` by `observe`), `unit_random` in [0, 1).

    The interval always ends within [min, max]; the feed's own requests (ttl, Retry-After, ...) are floors,
    raised only up to the maximum. Returns the schedule and the history with the interval remembered."""
    interval, reasons = _base_interval(history, seen, settings)
    floor_value, floor_name = max(_floors(seen), default=(0.0, ""))
    if floor_value > interval:
        interval = floor_value
        reasons.append(f"{floor_name} asks {_human(floor_value)}")
    lowest = max(settings.min_interval_seconds, min(floor_value, settings.max_interval_seconds))
    jitter = settings.jitter * (2.0 * unit_random - 1.0)
    bounded = min(settings.max_interval_seconds, max(lowest, interval * (1.0 + jitter)))
    if bounded != interval * (1.0 + jitter):
        edge = "max" if bounded == settings.max_interval_seconds else "min"
        reasons.append(f"{edge} {_human(bounded)}")
    elif jitter:
        reasons.append(f"jitter {jitter:+.0%}")
    why = f"every {_human(bounded)}: " + "; ".join(reasons)
    schedule = Schedule(now + timedelta(seconds=bounded), bounded, why)
    return schedule, replace(history, interval_seconds=bounded)


def pushed_schedule(now: datetime, settings: ScheduleSettings, interval_seconds: float) -> Schedule:
    """After a WebSub push was processed: the safety poll is pushed back, not brought forward."""
    interval = min(settings.max_interval_seconds, max(interval_seconds, settings.min_interval_seconds))
    return Schedule(now + timedelta(seconds=interval), interval, f"every {_human(interval)}: WebSub push received")
