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
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import apprise

from alerts.messages import Message, digest, spike_message
from alerts.rules import compile_rules
from alerts.spikes import find_spikes
from core.records import SPIKE_PREFIX, Article, DigestItem
from core.settings import AlertRule, Config
from storage import warehouse as wh
from storage.warehouse import Connection, DueNotification, Warehouse

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
    keys = [
        (compiled.rule.name, article.article_id, channel_for(url).label)
        for compiled in compile_rules(tuple(rules))
        for article in articles
        if compiled.matches(article)
        for url in compiled.rule.notify
    ]
    return wh.enqueue_notifications(con, keys, run_id, datetime.now(UTC)) if keys else 0


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


def send(url: str, message: Message, timeout: float) -> str | None:
    """Deliver one message; None on success, else the error (with no URL or token in it)."""
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
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        delivered = notifier.notify(body=message.body, title=message.title)
    if delivered:
        return None
    lines = [line.split(" - ", 2)[-1].strip() for line in captured.getvalue().splitlines() if line.strip()]
    return ("; ".join(lines) or "delivery failed")[:500].replace(url, "<channel>")


SAMPLE = DigestItem(
    "sample",
    "Sample: Pinduoduo cuts merchant fees (a newsmon test message)",
    "https://example.com/newsmon-test",
    "newsmon",
    "en",
    ("pinduoduo",),
    ("pricing",),
)


def send_test(rule: AlertRule, timeout: float) -> list[tuple[str, str | None]]:
    """Send a sample digest through each of the rule's channels: (channel label, error or None)."""
    message = digest(rule.name, [SAMPLE])
    return [(channel.label, send(channel.url, message, timeout)) for channel in map(channel_for, rule.notify)]


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


def deliver_pending(warehouse: Warehouse, config: Config) -> DeliveryReport:
    """Send every due outbox row of the configured rules and channels; rows of removed rules stay queued.
    One process at a time (the lake's `delivery` lock): two passes never send the same row twice."""
    with warehouse.exclusive("delivery"):
        return _deliver_due(warehouse, config)


def _deliver_due(warehouse: Warehouse, config: Config) -> DeliveryReport:
    rules = {rule.name: rule for rule in config.alerts}
    channels = {channel.label: channel for rule in config.alerts for channel in map(channel_for, rule.notify)}
    with warehouse.session() as con:
        due = wh.due_notifications(con, config.notifications.max_attempts)
        grouped: dict[tuple[str, str], list[DueNotification]] = defaultdict(list)
        for row in due:
            if row.rule in rules and row.channel in channels:
                grouped[(row.rule, row.channel)].append(row)

        def spike_info(rule: str) -> Callable[[str], Message | None]:
            def lookup(key: str) -> Message | None:
                details = wh.spike_details(con, rule, key)
                return spike_message(rule, details[0], details[1].isoformat(), *details[2:]) if details else None

            return lookup

        plan = [
            (channels[channel], message, chunk)
            for (rule, channel), rows in grouped.items()
            for message, chunk in _messages(rules[rule], rows, spike_info(rule))
        ]
    sent = failed = 0
    for channel, message, chunk in plan:
        error = send(channel.url, message, config.notifications.timeout_seconds)
        fault_point("after-send")
        with warehouse.transaction() as con:
            wh.record_delivery(con, [(r.rule, r.article_id, r.channel) for r in chunk], error, datetime.now(UTC))
        sent, failed = (sent + len(chunk), failed) if error is None else (sent, failed + len(chunk))
    return DeliveryReport(sent, failed, len(plan))
