"""The watcher's memory of its feeds: validators, failures, adaptive schedules and weekly entry counts.

Loaded from the warehouse at start, kept in memory, written back through `record` in the writer's
transactions. A feed's new validators are written only once its new entries are stored (as in `newsmon
run`), so a watcher killed in between re-reads the feed after a restart instead of losing entries.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from core.records import FeedHistory, FeedPoll, FeedState, Schedule, StoredSchedule
from core.settings import FeedConfig, ScheduleSettings
from flows.polling import failure_weight
from flows.schedule import PollObservation, next_poll, observe
from storage import warehouse as wh

WEEK = timedelta(days=7)
# A planned poll: the poll, the feed's title, weighted failures after it, its next schedule, when polled.
Planned = tuple[FeedPoll, str | None, int, StoredSchedule, datetime]


class FeedBook:
    """Not thread-safe: only the watch loop uses it."""

    def __init__(
        self,
        feeds: Sequence[FeedConfig],
        states: dict[str, FeedState],
        schedules: dict[str, StoredSchedule],
        weekly: dict[str, int],
        settings: ScheduleSettings,
    ) -> None:
        self.feeds = {f.url: f for f in feeds}
        self.states = states
        self.schedules = schedules
        self.weekly = weekly
        self.settings = settings
        self.in_flight: set[str] = set()

    def next_poll_at(self, url: str) -> datetime | None:
        stored = self.schedules.get(url)
        if stored is not None:
            return stored.schedule.next_poll_at
        state = self.states.get(url)
        return state.next_poll_at if state else None

    def due(self, now: datetime) -> list[FeedConfig]:
        due = []
        for url, feed in self.feeds.items():
            at = self.next_poll_at(url)
            if url not in self.in_flight and (at is None or at <= now):
                due.append(feed)
        return due

    def soonest(self) -> datetime | None:
        times = [self.next_poll_at(u) for u in self.feeds if u not in self.in_flight]
        if any(t is None for t in times):
            return None
        return min((t for t in times if t is not None), default=None)

    def poll_now(self, url: str, now: datetime) -> None:
        """Make a feed due at once (a pushing feed after a restart: catch what was pushed but not stored)."""
        stored = self.schedules.get(url)
        if stored is not None:
            schedule = replace(stored.schedule, next_poll_at=now, why=stored.schedule.why)
            self.schedules[url] = replace(stored, schedule=schedule)

    def defer(self, urls: Sequence[str], until: datetime) -> None:
        """Not before `until` (in memory only: a failed cycle must not turn into a tight loop of polls)."""
        for url in urls:
            stored = self.schedules.get(url)
            if stored is not None:
                self.schedules[url] = replace(stored, schedule=replace(stored.schedule, next_poll_at=until))
            else:
                self.schedules[url] = StoredSchedule(
                    url, FeedHistory(), Schedule(until, 0.0, "retry after a failed cycle")
                )

    def lag_seconds(self, now: datetime) -> float:
        late = [(now - at).total_seconds() for u in self.feeds if (at := self.next_poll_at(u)) is not None]
        return max([0.0, *late])

    def failing(self) -> int:
        return sum(1 for url in self.feeds if (s := self.states.get(url)) and s.consecutive_failures > 0)

    def plan(self, poll: FeedPoll, new: int, pushed: bool, now: datetime) -> tuple[int, StoredSchedule]:
        """Weighted failures after this poll and the feed's next schedule."""
        state = self.states.get(poll.feed_url)
        previous = state.consecutive_failures if state else 0
        failures = previous + failure_weight(poll.error_kind) if poll.outcome == "failed" else 0
        seen = PollObservation(
            outcome="failed" if poll.outcome == "failed" else ("unchanged" if poll.outcome == "unchanged" else "ok"),
            entries_seen=len(poll.entries),
            entries_new=new,
            entries_last_week=self.weekly.get(poll.feed_url, 0),
            ttl_seconds=poll.ttl_seconds,
            update_period_seconds=poll.update_period_seconds,
            max_age_seconds=poll.max_age_seconds,
            retry_after_seconds=poll.retry_after_seconds,
            failures=failures,
            error_kind=poll.error_kind,
            pushed=pushed,
        )
        stored = self.schedules.get(poll.feed_url)
        history = observe(stored.history if stored else FeedHistory(), seen, self.settings)
        schedule, history = next_poll(history, seen, now, self.settings, random.random())  # noqa: S311 - jitter
        return failures, StoredSchedule(poll.feed_url, history, schedule)

    def record(self, con: wh.Connection, polls: Sequence[Planned]) -> None:
        """Write polls in the caller's transaction and remember them."""
        self.write(con, polls)
        self.remember(polls)

    def remember(self, polls: Sequence[Planned]) -> None:
        """The polls' new schedules, validators and failure counts, in memory (what the next poll uses)."""
        for poll, _, failures, stored, _ in polls:
            self.schedules[poll.feed_url] = stored
            self.states[poll.feed_url] = _state_after(self.states.get(poll.feed_url), poll, failures, stored.schedule)

    @staticmethod
    def write(con: wh.Connection, polls: Sequence[Planned]) -> None:
        """Feed rows and schedules of the polls, in the caller's transaction."""
        wh.record_feed_polls(
            con,
            [
                wh.PollOutcome(poll, polled_at, stored.schedule.next_poll_at, failures, title)
                for poll, title, failures, stored, polled_at in polls
            ],
        )
        if polls:
            wh.save_schedules(con, [stored for *_, stored, _ in polls], max(at for *_, at in polls))

    def stored(self, feed_url: str, articles: int) -> None:
        self.weekly[feed_url] = self.weekly.get(feed_url, 0) + articles


def _state_after(state: FeedState | None, poll: FeedPoll, failures: int, schedule: Schedule) -> FeedState:
    if poll.outcome == "failed":
        etag, modified, body = (state.etag, state.last_modified, state.body_hash) if state else (None, None, None)
    else:
        etag, modified = poll.etag, poll.last_modified
        body = poll.body_hash or (state.body_hash if state else None)
    return FeedState(poll.feed_url, etag, modified, body, schedule.next_poll_at, failures)
