"""The adaptive polling schedule: bounds, floors, monotonicity and the human 'why' (property tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.records import FeedHistory
from core.settings import ScheduleSettings
from extractors.feeds import update_period_seconds
from flows.schedule import (
    WEEK_SECONDS,
    PollObservation,
    next_poll,
    observe,
    pushed_schedule,
)

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SETTINGS = ScheduleSettings()

seconds = st.one_of(st.none(), st.floats(min_value=0, max_value=10 * WEEK_SECONDS, allow_nan=False))
ratios = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
units = st.floats(min_value=0.0, max_value=0.999999, allow_nan=False)


@st.composite
def settings_strategy(draw: st.DrawFn) -> ScheduleSettings:
    low = draw(st.floats(min_value=1, max_value=3600, allow_nan=False))
    high = draw(st.floats(min_value=low, max_value=30 * 86400, allow_nan=False))
    return ScheduleSettings(
        min_interval_seconds=low,
        max_interval_seconds=high,
        factor=draw(st.floats(min_value=0.1, max_value=10, allow_nan=False)),
        jitter=draw(st.floats(min_value=0, max_value=0.5, allow_nan=False)),
    )


@st.composite
def observations(draw: st.DrawFn) -> PollObservation:
    seen = draw(st.integers(min_value=0, max_value=500))
    return PollObservation(
        outcome=draw(st.sampled_from(["ok", "unchanged", "failed"])),
        entries_seen=seen,
        entries_new=draw(st.integers(min_value=0, max_value=seen)),
        entries_last_week=draw(st.integers(min_value=0, max_value=5000)),
        ttl_seconds=draw(seconds),
        update_period_seconds=draw(seconds),
        max_age_seconds=draw(seconds),
        retry_after_seconds=draw(seconds),
        failures=draw(st.integers(min_value=0, max_value=50)),
        pushed=draw(st.booleans()),
    )


histories = st.builds(
    FeedHistory,
    polls=st.integers(min_value=0, max_value=1000),
    yield_ratio=st.one_of(st.none(), ratios),
    unchanged_ratio=ratios,
)


@given(histories, observations(), settings_strategy(), units)
def test_interval_is_bounded_honours_floors_and_explains_itself(
    history: FeedHistory, seen: PollObservation, settings: ScheduleSettings, unit: float
) -> None:
    schedule, remembered = next_poll(history, seen, NOW, settings, unit)
    assert settings.min_interval_seconds <= schedule.interval_seconds <= settings.max_interval_seconds
    assert schedule.next_poll_at == NOW + timedelta(seconds=schedule.interval_seconds)
    floors = (seen.ttl_seconds, seen.update_period_seconds, seen.max_age_seconds, seen.retry_after_seconds)
    asked = max((v for v in floors if v), default=0.0)
    assert schedule.interval_seconds >= min(asked, settings.max_interval_seconds) - 1e-6
    assert schedule.why.startswith("every ") and len(schedule.why) < 400
    assert remembered.interval_seconds == schedule.interval_seconds


@given(histories, st.integers(min_value=1, max_value=4000), st.integers(min_value=1, max_value=4000), units)
def test_more_entries_last_week_never_means_a_longer_interval(
    history: FeedHistory, fewer: int, extra: int, unit: float
) -> None:
    quiet = PollObservation("ok", entries_last_week=fewer)
    busy = replace(quiet, entries_last_week=fewer + extra)
    assert next_poll(history, busy, NOW, SETTINGS, unit)[0].interval_seconds <= (
        next_poll(history, quiet, NOW, SETTINGS, unit)[0].interval_seconds
    )


@given(ratios, ratios, st.integers(min_value=1, max_value=4000), units)
def test_higher_yield_never_means_a_longer_interval(low: float, high: float, weekly: int, unit: float) -> None:
    low, high = sorted((low, high))
    seen = PollObservation("ok", entries_last_week=weekly)
    at_low = next_poll(FeedHistory(5, low), seen, NOW, SETTINGS, unit)[0].interval_seconds
    at_high = next_poll(FeedHistory(5, high), seen, NOW, SETTINGS, unit)[0].interval_seconds
    assert at_high <= at_low


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=40), units)
def test_more_failures_never_mean_an_earlier_retry(failures: int, more: int, unit: float) -> None:
    settings = ScheduleSettings(jitter=0.0)
    first = next_poll(FeedHistory(), PollObservation("failed", failures=failures), NOW, settings, unit)[0]
    later = next_poll(FeedHistory(), PollObservation("failed", failures=failures + more), NOW, settings, unit)[0]
    assert later.interval_seconds >= first.interval_seconds
    assert "failing" in later.why


@given(histories, st.integers(min_value=1, max_value=4000))
def test_jitter_stays_within_its_share(history: FeedHistory, weekly: int) -> None:
    settings = ScheduleSettings(min_interval_seconds=1, max_interval_seconds=10 * WEEK_SECONDS, jitter=0.1)
    seen = PollObservation("ok", entries_last_week=weekly)
    middle = next_poll(history, seen, NOW, settings, 0.5)[0].interval_seconds
    for unit in (0.0, 0.999999):
        jittered = next_poll(history, seen, NOW, settings, unit)[0].interval_seconds
        assert abs(jittered - middle) <= 0.1 * middle + 1e-6


def test_miniflux_frequency_and_the_reasons_given() -> None:
    settings = ScheduleSettings(jitter=0.0)
    # 84 entries a week -> every 2 h (7 d / 84)
    schedule, _ = next_poll(FeedHistory(3), PollObservation("ok", entries_last_week=84), NOW, settings, 0.5)
    assert schedule.interval_seconds == 7200
    assert schedule.why == "every 2.0h: 84 entries last week -> 2.0h"
    # a very busy feed hits the floor, and says so
    busy, _ = next_poll(FeedHistory(3), PollObservation("ok", entries_last_week=100_000), NOW, settings, 0.5)
    assert busy.interval_seconds == settings.min_interval_seconds and "min 5m" in busy.why
    # nothing last week -> the maximum
    idle, _ = next_poll(FeedHistory(9), PollObservation("unchanged"), NOW, settings, 0.5)
    assert idle.interval_seconds == settings.max_interval_seconds and "no entry last week" in idle.why


def test_yield_and_validators_move_the_interval_as_media_cloud_does() -> None:
    settings = ScheduleSettings(jitter=0.0, min_interval_seconds=60)
    seen = PollObservation("ok", entries_last_week=84)
    all_new = next_poll(FeedHistory(5, 1.0), seen, NOW, settings, 0.5)[0]
    none_new = next_poll(FeedHistory(5, 0.0), seen, NOW, settings, 0.5)[0]
    assert all_new.interval_seconds == 3600 and "100% of entries new x0.50" in all_new.why
    assert none_new.interval_seconds == 14400 and "0% of entries new x2.00" in none_new.why
    mostly_304 = next_poll(FeedHistory(5, 0.5, 1.0), seen, NOW, settings, 0.5)[0]
    assert mostly_304.interval_seconds == 10800 and "100% unchanged polls x1.50" in mostly_304.why


def test_feed_requests_are_floors_and_push_relaxes_polling() -> None:
    settings = ScheduleSettings(jitter=0.0)
    seen = PollObservation("ok", entries_last_week=84, ttl_seconds=3 * 3600, retry_after_seconds=600)
    schedule = next_poll(FeedHistory(3), seen, NOW, settings, 0.5)[0]
    assert schedule.interval_seconds == 3 * 3600 and "ttl asks 3.0h" in schedule.why
    pushed = next_poll(FeedHistory(3), PollObservation("ok", entries_last_week=84, pushed=True), NOW, settings, 0.5)[0]
    assert pushed.interval_seconds == settings.push_poll_interval_seconds and "WebSub" in pushed.why
    after_push = pushed_schedule(NOW, settings, settings.push_poll_interval_seconds)
    assert after_push.next_poll_at == NOW + timedelta(hours=6)


def test_observe_smooths_yield_and_unchanged_rates() -> None:
    history = observe(FeedHistory(), PollObservation("ok", entries_seen=10, entries_new=10), SETTINGS)
    assert history.yield_ratio == 1.0 and history.polls == 1
    history = observe(history, PollObservation("ok", entries_seen=10, entries_new=0), SETTINGS)
    assert history.yield_ratio == 0.7
    history = observe(history, PollObservation("unchanged"), SETTINGS)
    assert history.unchanged_ratio == 0.3 and history.yield_ratio == 0.7
    failed = observe(history, PollObservation("failed", failures=1), SETTINGS)
    assert failed == replace(history, polls=history.polls + 1)


@given(st.text(max_size=10), st.one_of(st.none(), st.text(max_size=5), st.integers(-5, 100)))
def test_update_period_never_raises(period: str, frequency: str | int | None) -> None:
    value = update_period_seconds(period, frequency)
    assert value is None or value > 0


def test_update_period_values() -> None:
    assert update_period_seconds("hourly", "2") == 1800
    assert update_period_seconds(" Daily ", None) == 86400
    assert update_period_seconds("fortnightly", "1") is None
