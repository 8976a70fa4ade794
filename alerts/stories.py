"""Alerts per story (`per: story` rules): one message when a story breaks, updates grouped and rate-limited.

Every match is still one outbox row (rule, article, channel) — exactly-once delivery is unchanged; what
changes is how due rows become messages. A row is 'story' (the first match of its story for the rule and
channel) or 'update' (a later one). 'story' rows go out at once as one "new stories" digest, each story with
the later articles already due folded in. 'update' rows of a story go out as one update message when the
last message about that story left at least `story_updates` minutes ago; with `story_updates: digest` they
only ride along in the rule's next "new stories" digest. Rows not due yet stay pending for a later pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from alerts.messages import Message, digest_id, item_block
from core.records import DigestItem


class Row(Protocol):
    """An outbox row as delivery sees it (storage.outbox.DueNotification)."""

    @property
    def kind(self) -> str: ...

    @property
    def item(self) -> DigestItem: ...


@dataclass(frozen=True)
class Planned:
    message: Message
    rows: list[Row]


def _story_of(row: Row) -> str:
    return row.item.story_id or row.item.article_id


def _story_block(first: DigestItem, more: Sequence[DigestItem]) -> str:
    lines = [item_block(first)]
    if more:
        languages = sorted({i.language for i in more} - {first.language})
        sources = sorted({i.source for i in more})
        extra = f" (also in {', '.join(languages)})" if languages else ""
        lines.append(f"  + {len(more)} more: {', '.join(sources)}{extra}")
    return "\n".join(lines)


def _digest_id(rule: str, rows: Sequence[Row]) -> str:
    return digest_id(rule, (r.item.article_id for r in rows))


def new_stories_message(
    rule: str, stories: Sequence[tuple[Row, list[Row]]], updates: Sequence[Row], part: int = 1, parts: int = 1
) -> Message:
    """One message for the stories that broke: each story's first article and the rest folded in; with
    `updates` (digest mode) a section of new articles of stories notified before."""
    noun = "story" if len(stories) == 1 else "stories"
    blocks = [_story_block(first.item, [r.item for r in more]) for first, more in stories]
    if updates:
        blocks.append("Updates to earlier stories:")
        blocks += [item_block(r.item) for r in updates]
    body = "\n\n".join(blocks) + f"\n\n— alert rule “{rule}” (one message per story)"
    every = [row for first, more in stories for row in (first, *more)] + list(updates)
    suffix = f" (part {part}/{parts})" if parts > 1 else ""
    return Message(f"[newsmon] {rule}: {len(stories)} new {noun}{suffix}", body, _digest_id(rule, every))


def update_message(rule: str, story_title: str, rows: Sequence[Row]) -> Message:
    noun = "article" if len(rows) == 1 else "articles"
    lines = [item_block(r.item) for r in rows]
    body = "\n\n".join(lines) + f"\n\n— alert rule “{rule}”: update to the story “{story_title}”"
    return Message(f"[newsmon] {rule}: update to “{story_title}”: {len(rows)} new {noun}", body, _digest_id(rule, rows))


def plan_story_messages(
    rule: str,
    updates_every: int | str,
    rows: Sequence[Row],
    last_sent: Mapping[str, datetime],
    titles: Mapping[str, str],
    now: datetime,
    max_per_message: int = 20,
) -> list[Planned]:
    """The messages to send now for one rule and channel (at most `max_per_message` stories in one); rows
    left out stay pending."""
    by_story: dict[str, list[Row]] = {}
    for row in rows:
        by_story.setdefault(_story_of(row), []).append(row)
    breaking = [(s, rs) for s, rs in by_story.items() if any(r.kind == "story" for r in rs)]
    later = {s: rs for s, rs in by_story.items() if not any(r.kind == "story" for r in rs)}
    planned: list[Planned] = []
    stories = [(next(r for r in rs if r.kind == "story"), [r for r in rs if r.kind != "story"]) for _, rs in breaking]
    if updates_every == "digest":
        carried = [r for rs in later.values() for r in rs] if stories else []
        later = {}
    else:
        carried = []
    chunks = [stories[i : i + max_per_message] for i in range(0, len(stories), max_per_message)]
    for number, chunk in enumerate(chunks, start=1):
        extra = carried if number == len(chunks) else []
        message = new_stories_message(rule, chunk, extra, number, len(chunks))
        planned.append(Planned(message, [row for first, more in chunk for row in (first, *more)] + extra))
    if isinstance(updates_every, int):
        for story_id, story_rows in later.items():
            sent = last_sent.get(story_id)
            if sent is None or now - sent >= timedelta(minutes=updates_every):
                title = titles.get(story_id, story_rows[0].item.title)
                planned.append(Planned(update_message(rule, title, story_rows), list(story_rows)))
    return planned
