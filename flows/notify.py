"""Alert delivery through Apprise, from the `notifications` outbox.

Matches are queued as 'pending' rows in the same transaction that stores their articles (see
`queue_matches`), so a match is never lost. Delivery reads the due rows, sends one digest per rule and
channel (split at the rule's `max_per_message`), and records each message's outcome right after sending it:
'sent', or 'failed' with the error and an attempt count, retried on every pass until `max_attempts`.
A channel that is down never fails the pass. Webhook URLs (which carry tokens) are never logged or
stored: rows and messages name a channel by its privacy-masked URL plus a short hash.
"""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import apprise

from alerts.messages import Message, digest, spike_message
from alerts.rules import compile_rules
from alerts.spikes import find_spikes
from alerts.stories import plan_story_messages
from core.records import SPIKE_PREFIX, Article, DigestItem
from core.settings import AlertRule, Config
from flows.netguard import HostAllowList
from flows.notifyguard import private_redirects_refused
from storage import warehouse as wh
from storage.warehouse import ComposedMessage, Connection, DueNotification, Warehouse

T = TypeVar("T")
FAULT_POINT_VARIABLE = "NEWSMON_FAULT_POINT"


def fault_point(name: str) -> None:
    """Testing aid for crash tests: SIGKILL this process at the named point when the variable says so."""
    if os.environ.get(FAULT_POINT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Channel:
    url: str  # secret: never logged, never stored
    label: str  # what rows, logs and status show


def _masked(url: str) -> str:
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return url.split("://", 1)[0] + "://…"
    return str(plugin.url(privacy=True)).split("?", 1)[0]  # type: ignore[no-untyped-call]


@functools.cache  # one Apprise parse per URL, not one per match
def channel_for(url: str) -> Channel:
    masked = _masked(url)
    return Channel(url, f"{masked}#{hashlib.sha256(url.encode()).hexdigest()[:8]}")


def queue_matches(con: Connection, rules: Sequence[AlertRule], articles: Sequence[Article], run_id: str) -> int:
    """Outbox rows for every (rule, article, channel) match, in the caller's (articles') transaction."""
    now = datetime.now(UTC)
    queued = 0
    for compiled in compile_rules(tuple(rules)):
        matched = [a for a in articles if compiled.matches(a)]
        if not matched:
            continue
        if compiled.rule.per == "story":
            queued += _queue_story_matches(con, compiled.rule, matched, run_id, now)
            continue
        keys = [
            (compiled.rule.name, a.article_id, channel_for(url).label) for a in matched for url in compiled.rule.notify
        ]
        queued += wh.enqueue_notifications(con, keys, run_id, now)
    return queued


def _queue_story_matches(
    con: Connection, rule: AlertRule, articles: Sequence[Article], run_id: str, now: datetime
) -> int:
    """`per: story`: an article is 'story' (first match of its story on this channel) or 'update'."""
    notified = wh.notified_stories(con, rule.name, [a.story_id for a in articles if a.story_id])
    kinds: dict[str, list[tuple[str, str, str]]] = {"story": [], "update": []}
    for article in articles:
        story = article.story_id or article.article_id
        for label in (channel_for(url).label for url in rule.notify):
            kind = "update" if (story, label) in notified else "story"
            notified.add((story, label))
            kinds[kind].append((rule.name, article.article_id, label))
    return sum(wh.enqueue_notifications(con, keys, run_id, now, kind) for kind, keys in kinds.items() if keys)


def queue_spikes(con: Connection, rules: Sequence[AlertRule], run_id: str, now: datetime) -> int:
    """Detect today's platform spikes for spike rules; each spike is queued once per rule and channel."""
    queued = 0
    for rule in rules:
        if rule.spike is None:
            continue
        counts = wh.daily_platform_counts(con, now - timedelta(days=rule.spike.days + 1))
        if rule.platforms:
            counts = {p: c for p, c in counts.items() if p in rule.platforms}
        settings = rule.spike
        for spike in find_spikes(counts, now.date(), settings.days, settings.sigma, settings.min_mentions):
            if wh.record_spike(con, rule.name, spike.platform, spike.day, spike.count, spike.mean, spike.stdev, now):
                key = f"{SPIKE_PREFIX}{spike.platform}:{spike.day.isoformat()}"
                keys = [(rule.name, key, channel_for(url).label) for url in rule.notify]
                queued += wh.enqueue_notifications(con, keys, run_id, now)
    return queued


def send(url: str, message: Message, timeout: float, allow: HostAllowList | None = None) -> str | None:
    """Deliver one message; None on success, else the error (with no URL or token in it). Redirects from the
    channel's own host may lead into private address space only where `allow` allows (flows.notifyguard)."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return "not an Apprise URL this installation can send to"
    plugin.socket_read_timeout = timeout
    plugin.socket_connect_timeout = timeout
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        headers["X-Newsmon-Digest"] = message.digest_id  # lets a receiver drop a re-send
    notifier = apprise.Apprise()
    notifier.add(plugin)
    host = getattr(plugin, "host", None)
    outcome = _within(timeout, lambda: _notify(notifier, message, host, allow or HostAllowList(())))
    if outcome is None:
        return (
            f"no answer within {timeout:g} s (the receiver may still process it; a re-send carries the same "
            "X-Newsmon-Digest id)"
        )
    delivered, log = outcome
    if delivered:
        return None
    lines = [line.split(" - ", 2)[-1].strip() for line in log.splitlines() if line.strip()]
    return ("; ".join(lines) or "delivery failed")[:500].replace(url, "<channel>")


def _notify(notifier: apprise.Apprise, message: Message, host: str | None, allow: HostAllowList) -> tuple[bool, str]:
    with (
        private_redirects_refused(host, allow) as refused,
        apprise.LogCapture(level=apprise.logging.WARNING) as captured,  # type: ignore[no-untyped-call]
    ):
        delivered = bool(notifier.notify(body=message.body, title=message.title))
    return delivered and not refused, "\n".join(refused) or str(captured.getvalue())


def _within(seconds: float, work: Callable[[], T]) -> T | None:
    """`work()`'s result, or None if it has not finished `seconds` after the start. Apprise bounds each socket
    operation only, so a receiver trickling its answer would hold the pass; the work runs in a daemon thread
    that is abandoned (and dies with the process) when the time is up. An exception in `work` is re-raised."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name="newsmon-notify", daemon=True)
    thread.start()
    thread.join(seconds)
    if failure:
        raise failure[0]
    return outcome[0] if outcome else None


SAMPLE = DigestItem(
    "sample",
    "Sample: Pinduoduo cuts merchant fees (a newsmon test message)",
    "https://example.com/newsmon-test",
    "newsmon",
    "en",
    ("pinduoduo",),
    ("pricing",),
)


def send_test(rule: AlertRule, timeout: float, allow: HostAllowList | None = None) -> list[tuple[str, str | None]]:
    """Send a sample digest through each of the rule's channels: (channel label, error or None)."""
    message = digest(rule.name, [SAMPLE])
    return [(channel.label, send(channel.url, message, timeout, allow)) for channel in map(channel_for, rule.notify)]


@dataclass(frozen=True)
class DeliveryReport:
    sent: int  # outbox rows delivered
    failed: int  # outbox rows that failed this time
    messages: int


def _messages(
    rule: AlertRule, rows: Sequence[DueNotification], spike_info: Callable[[str], Message | None]
) -> list[tuple[Message, list[DueNotification]]]:
    spikes = [(m, [r]) for r in rows if r.article_id.startswith(SPIKE_PREFIX) if (m := spike_info(r.article_id))]
    articles = [r for r in rows if not r.article_id.startswith(SPIKE_PREFIX)]
    size = rule.max_per_message
    chunks = [articles[i : i + size] for i in range(0, len(articles), size)]
    digests = [(digest(rule.name, [r.item for r in chunk], n, len(chunks)), chunk) for n, chunk in enumerate(chunks, 1)]
    return [*spikes, *digests]


def _plan(
    con: Connection,
    rule: AlertRule,
    channel: str,
    rows: Sequence[DueNotification],
    spike_info: Callable[[str], Message | None],
) -> list[tuple[Message, list[DueNotification]]]:
    if rule.per != "story":
        return _messages(rule, rows, spike_info)
    stories = [r.item.story_id for r in rows if r.item.story_id]
    planned = plan_story_messages(
        rule.name,
        rule.story_updates,
        rows,
        wh.last_story_messages(con, rule.name, channel, stories),
        wh.story_titles(con, stories),
        datetime.now(UTC),
        rule.max_per_message,
    )
    chosen = [{id(row) for row in p.rows} for p in planned]
    return [(p.message, [r for r in rows if id(r) in ids]) for p, ids in zip(planned, chosen, strict=True)]


def _compose(con: Connection, config: Config, channels: dict[str, Channel]) -> int:
    """Compose every due outbox row not in a message yet into messages and persist them (with their rows)
    before anything is sent: a message, once composed, is re-sent unchanged with its id."""
    rules = {rule.name: rule for rule in config.alerts}
    grouped: dict[tuple[str, str], list[DueNotification]] = defaultdict(list)
    for row in wh.due_notifications(con, config.notifications.max_attempts):
        if row.rule in rules and row.channel in channels:
            grouped[(row.rule, row.channel)].append(row)

    def spike_info(rule: str) -> Callable[[str], Message | None]:
        def lookup(key: str) -> Message | None:
            details = wh.spike_details(con, rule, key)
            return spike_message(rule, details[0], details[1].isoformat(), *details[2:]) if details else None

        return lookup

    now = datetime.now(UTC)
    composed = 0
    for (rule, channel), rows in grouped.items():
        for message, chunk in _plan(con, rules[rule], channel, rows, spike_info(rule)):
            keys = tuple((r.rule, r.article_id, r.channel) for r in chunk)
            wh.save_message(
                con, ComposedMessage(message.digest_id, channel, rule, message.title, message.body, keys), now
            )
            composed += 1
    return composed


def deliver_pending(warehouse: Warehouse, config: Config) -> DeliveryReport:
    """Send every due message of the configured rules and channels (composing new outbox rows into new
    messages first); rows of removed rules stay queued. One process at a time (the lake's `delivery`
    lock): two passes never compose or send the same row twice."""
    with warehouse.exclusive("delivery"):
        return _deliver_due(warehouse, config)


def _deliver_due(warehouse: Warehouse, config: Config) -> DeliveryReport:
    allow = HostAllowList(config.network.allow_hosts)
    rules = {rule.name for rule in config.alerts}
    channels = {channel.label: channel for rule in config.alerts for channel in map(channel_for, rule.notify)}
    with warehouse.transaction() as con:
        _compose(con, config, channels)
        due = wh.due_messages(con, config.notifications.max_attempts)
    plan = [m for m in due if m.rule in rules and m.channel in channels]
    sent = failed = 0
    for composed in plan:
        message = Message(composed.title, composed.body, composed.message_id)
        error = send(channels[composed.channel].url, message, config.notifications.timeout_seconds, allow)
        fault_point("after-send")
        with warehouse.transaction() as con:
            wh.record_delivery(con, composed.keys, error, datetime.now(UTC))
        sent, failed = (sent + len(composed.keys), failed) if error is None else (sent, failed + len(composed.keys))
    return DeliveryReport(sent, failed, len(plan))
