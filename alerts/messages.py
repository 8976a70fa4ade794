"""Digest messages: one message lists many matching articles, so a busy day does not flood a channel."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.records import DigestItem


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    digest_id: str  # stable for the same rule, channel and articles: lets a receiver drop a re-send


def item_block(item: DigestItem, *more_tags: str) -> str:
    """An article as every message lists it: a bullet with its title, its URL, then its source, language,
    platforms and topics (and `more_tags`)."""
    tags = [item.source, item.language]
    if item.platforms:
        tags.append("platforms: " + ", ".join(item.platforms))
    if item.topics:
        tags.append("topics: " + ", ".join(item.topics))
    return f"• {item.title}\n  {item.url}\n  {' · '.join([*tags, *more_tags])}"


def digest_id(rule: str, article_ids: Iterable[str]) -> str:
    """Stable for the same rule and articles: a receiver drops a re-send by it."""
    key = "\n".join([rule, *sorted(article_ids)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _line(item: DigestItem) -> str:
    return item_block(item, *([f"copy of {item.duplicate_of}"] if item.duplicate_of else []))


def digest(rule: str, items: Sequence[DigestItem], part: int = 1, parts: int = 1) -> Message:
    noun = "article" if len(items) == 1 else "articles"
    suffix = f" (part {part}/{parts})" if parts > 1 else ""
    title = f"[newsmon] {rule}: {len(items)} new {noun}{suffix}"
    body = "\n\n".join(_line(item) for item in items) + f"\n\n— alert rule “{rule}”"
    return Message(title, body, digest_id(rule, (item.article_id for item in items)))


def spike_message(rule: str, platform: str, day: str, count: int, mean: float, stdev: float) -> Message:
    title = f"[newsmon] {rule}: {platform} mentions spiked on {day}"
    body = (
        f"{count} original articles mentioned {platform} on {day}, against a baseline of "
        f"{mean:.1f} ± {stdev:.1f} per day over the previous days.\n\n— alert rule “{rule}”"
    )
    return Message(title, body, hashlib.sha256(f"{rule}\n{platform}\n{day}".encode()).hexdigest()[:16])
