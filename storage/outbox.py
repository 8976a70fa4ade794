"""The notification outbox (alert matches waiting for delivery) and the spikes it announces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.records import SPIKE_PREFIX, DigestItem
from storage.connection import Connection, insert_rows
from storage.tables import DIGEST_SQL, MESSAGE_COLUMNS, NOTIFICATION_COLUMNS, SPIKE_COLUMNS, digest_item


@dataclass(frozen=True)
class DueNotification:
    """An outbox row to deliver, with the article as the digest shows it."""

    rule: str
    channel: str
    attempts: int
    item: DigestItem
    kind: str = "article"  # 'article'; for `per: story` rules 'story' (its first match) or 'update'

    @property
    def article_id(self) -> str:
        return self.item.article_id


def enqueue_notifications(
    con: Connection, keys: Sequence[tuple[str, str, str]], run_id: str, now: datetime, kind: str = "article"
) -> int:
    """Outbox rows ('pending') for (rule, article_id, channel) keys not queued before. Returns how many."""
    rows = [(rule, article, channel, "pending", 0, now, now, run_id, kind) for rule, article, channel in keys]
    return insert_rows(con, "notifications", NOTIFICATION_COLUMNS, rows, unique_by=("rule", "article_id", "channel"))


@dataclass(frozen=True)
class ComposedMessage:
    """A message as it was composed (and is sent, and re-sent, unchanged), with the outbox rows it carries."""

    message_id: str  # the X-Newsmon-Digest id receivers use to drop a re-send
    channel: str
    rule: str
    title: str
    body: str
    keys: tuple[tuple[str, str, str], ...]  # (rule, article_id, channel) of its outbox rows


def due_notifications(con: Connection, max_attempts: int) -> list[DueNotification]:
    """Due rows (pending, or failed under the attempt cap) not yet composed into a message, with what the
    digest shows, oldest first."""
    rows = con.execute(
        f"""SELECT n.rule, n.channel, n.attempts, n.kind, {", ".join(DIGEST_SQL.values())}
           FROM notifications n LEFT JOIN articles a USING (article_id)
           WHERE n.message_id IS NULL AND (n.status = 'pending' OR (n.status = 'failed' AND n.attempts < ?))
           ORDER BY n.created_at, n.rule, n.channel, a.seq NULLS LAST, n.article_id""",
        [max_attempts],
    ).fetchall()
    return [DueNotification(r[0], r[1], r[2], digest_item(r[4:]), r[3]) for r in rows]


def save_message(con: Connection, message: ComposedMessage, now: datetime) -> None:
    """Persist a composed message and tie its outbox rows to it, before it is sent for the first time."""
    row = (message.message_id, message.channel, message.rule, message.title, message.body, now)
    insert_rows(con, "messages", MESSAGE_COLUMNS, [row], unique_by=("message_id", "channel"))
    if not message.keys:
        return
    con.execute(  # one statement for all rows (each statement costs a catalog round trip in a DuckLake)
        """UPDATE notifications SET message_id = $message
           FROM (SELECT unnest($rules::VARCHAR[]) AS rule, unnest($articles::VARCHAR[]) AS article_id,
                        unnest($channels::VARCHAR[]) AS channel) AS k
           WHERE notifications.rule = k.rule AND notifications.article_id = k.article_id
             AND notifications.channel = k.channel""",
        {
            "message": message.message_id,
            "rules": [k[0] for k in message.keys],
            "articles": [k[1] for k in message.keys],
            "channels": [k[2] for k in message.keys],
        },
    )


def due_messages(con: Connection, max_attempts: int) -> list[ComposedMessage]:
    """Composed messages with rows still to deliver (pending, or failed under the attempt cap), oldest first."""
    rows = con.execute(
        """SELECT m.message_id, m.channel, m.rule, m.title, m.body, list((n.rule, n.article_id, n.channel))
           FROM messages m JOIN notifications n ON n.message_id = m.message_id AND n.channel = m.channel
           WHERE n.status = 'pending' OR (n.status = 'failed' AND n.attempts < ?)
           GROUP BY ALL ORDER BY min(m.composed_at), min(m.rowid)""",
        [max_attempts],
    ).fetchall()
    return [ComposedMessage(r[0], r[1], r[2], r[3], r[4], tuple(_key(k) for k in r[5])) for r in rows]


def _key(value: Any) -> tuple[str, str, str]:
    """An outbox key from DuckDB's row value (a tuple, or a dict for named structs)."""
    rule, article, channel = value.values() if isinstance(value, dict) else value
    return str(rule), str(article), str(channel)


def record_delivery(con: Connection, keys: Sequence[tuple[str, str, str]], error: str | None, now: datetime) -> None:
    """Mark outbox rows sent (error None) or failed with the error; attempts count either way. One
    statement for all keys (each statement costs a catalog round trip in a DuckLake)."""
    if not keys:
        return
    con.execute(
        """UPDATE notifications SET status = $status, attempts = notifications.attempts + 1, last_error = $error,
               updated_at = $now, sent_at = CASE WHEN $sent THEN $now ELSE notifications.sent_at END
           FROM (SELECT unnest($rules::VARCHAR[]) AS rule, unnest($articles::VARCHAR[]) AS article_id,
                        unnest($channels::VARCHAR[]) AS channel) AS k
           WHERE notifications.rule = k.rule AND notifications.article_id = k.article_id
             AND notifications.channel = k.channel""",
        {
            "status": "sent" if error is None else "failed",
            "error": error,
            "now": now,
            "sent": error is None,
            "rules": [k[0] for k in keys],
            "articles": [k[1] for k in keys],
            "channels": [k[2] for k in keys],
        },
    )


def daily_platform_counts(con: Connection, since: datetime) -> dict[str, dict[date, int]]:
    """Originals per platform per UTC day (by fetch time) since `since`."""
    rows = con.execute(
        """SELECT platform, CAST(timezone('UTC', fetched_at) AS DATE) AS day, count(*)
           FROM articles, unnest(platforms) AS p(platform)
           WHERE duplicate_of IS NULL AND fetched_at >= ? GROUP BY ALL""",
        [since],
    ).fetchall()
    counts: dict[str, dict[date, int]] = {}
    for platform, day, count in rows:
        counts.setdefault(platform, {})[day] = int(count)
    return counts


def record_spike(
    con: Connection,
    rule: str,
    platform: str,
    day: date,
    count: int,
    mean: float,
    stdev: float,
    now: datetime,
) -> bool:
    """Remember a spike once per (rule, platform, day). Returns False when it was already recorded."""
    existing = con.execute(
        "SELECT 1 FROM spikes WHERE rule = ? AND platform = ? AND day = ?", [rule, platform, day]
    ).fetchone()
    if existing:
        return False
    insert_rows(con, "spikes", SPIKE_COLUMNS, [(rule, platform, day, count, mean, stdev, now)])
    return True


def spike_details(con: Connection, rule: str, key: str) -> tuple[str, date, int, float, float] | None:
    """(platform, day, count, mean, stdev) for an outbox key 'spike:<platform>:<day>'."""
    platform, _, day = key.removeprefix(SPIKE_PREFIX).rpartition(":")
    row = con.execute(
        "SELECT platform, day, count, mean, stdev FROM spikes WHERE rule = ? AND platform = ? AND day = ?",
        [rule, platform, day],
    ).fetchone()
    return (row[0], row[1], int(row[2]), float(row[3]), float(row[4])) if row else None
