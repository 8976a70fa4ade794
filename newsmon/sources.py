"""`newsmon feeds …`: discover a site's feeds, add one to the config keeping its comments, export OPML.

Adding edits the user's YAML with ruamel.yaml's round trip, so comments, key order, quoting and the
indentation style survive; the edited text is validated like any config before it replaces the file
(atomically), so `feeds add` can never leave a config that `newsmon run` rejects.
"""

from __future__ import annotations

import io
import itertools
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from core.errors import ConfigError
from core.records import FeedCandidate, FeedKind, OpmlFeed
from core.settings import Config
from extractors.opml import normalize_tag, write_opml
from extractors.urls import canonical_url
from newsmon.config import parse_config


@dataclass(frozen=True)
class NewSource:
    """What `feeds add` appends to `feeds:`."""

    url: str
    kind: FeedKind
    name: str = ""
    tags: tuple[str, ...] = ()


def format_candidates(candidates: Sequence[FeedCandidate]) -> str:
    """The table `feeds discover` prints: working feeds first, then the ones that failed, with why."""
    if not candidates:
        return "no feed found (the page advertises none and none of the usual paths is a feed)"
    lines = [f"{'#':>2}  {'type':<13} {'items':>5}  {'last update':<16}  url  (title)"]
    for number, c in enumerate(sorted(candidates, key=lambda c: c.error is not None), 1):
        if c.error:
            lines.append(f"{number:>2}  {c.format:<13} {'-':>5}  {'-':<16}  {c.url}  FAILED: {c.error}")
            continue
        when = c.last_update.strftime("%Y-%m-%d %H:%M") if c.last_update else "-"
        title = f"  ({c.title})" if c.title else ""
        lines.append(f"{number:>2}  {c.format:<13} {c.items:>5}  {when:<16}  {c.url}{title}")
    return "\n".join(lines)


def source_of(candidate: FeedCandidate, name: str | None, tags: Sequence[str]) -> NewSource:
    kind: FeedKind = "sitemap" if candidate.format in ("sitemap", "sitemap-index") else "feed"
    return NewSource(candidate.url, kind, name or candidate.title, tuple(normalize_tag(t) for t in tags if t))


def _entry(source: NewSource) -> CommentedMap:
    entry = CommentedMap()
    entry["sitemap" if source.kind == "sitemap" else "url"] = source.url
    if source.name:
        entry["name"] = source.name
    if source.tags:
        tags = CommentedSeq(source.tags)
        tags.fa.set_flow_style()
        entry["tags"] = tags
    return entry


def configured_urls(config: Config) -> set[str]:
    return {canonical_url(feed.url) for feed in config.feeds}


def add_source(config_path: Path, source: NewSource) -> bool:
    """Append `source` to the config's `feeds:` keeping the file's comments and layout. False when the
    config already has that URL. Raises ConfigError when the file cannot be edited into a valid config."""
    text = config_path.read_text(encoding="utf-8")
    if canonical_url(source.url) in configured_urls(parse_config(text, config_path.resolve())):
        return False
    try:
        _, indent, block_seq_indent = load_yaml_guess_indent(text)
        data = _round_trip().load(text)
    except YAMLError as exc:
        raise ConfigError(f"{config_path}: cannot edit this YAML file: {exc}") from None
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{config_path}: (document): expected a mapping at the top")
    feeds: Any = data.get("feeds")
    if feeds is None:
        data["feeds"] = feeds = CommentedSeq()
    if not isinstance(feeds, list):
        raise ConfigError(f"{config_path}: feeds: expected a list, cannot add to it")
    feeds.append(_entry(source))
    new_text = _dump(data, _mapping_indent(text), indent or 2, block_seq_indent or 0)
    parse_config(new_text, config_path.resolve())  # the edited file must still be a valid config
    _replace(config_path, new_text)
    return True


def _round_trip() -> YAML:
    yaml = YAML()  # round trip: comments, key order, flow/block style
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the user's long lines
    return yaml


def _mapping_indent(text: str) -> int:
    """How far the file indents a nested mapping (ruamel guesses only the sequence indentation)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for parent, child in itertools.pairwise(lines):
        stripped = child.lstrip(" ")
        if not parent.startswith(" ") and parent.rstrip().endswith(":") and not stripped.startswith("-"):
            return max(1, len(child) - len(stripped))
    return 2


def _dump(data: Any, mapping: int, sequence: int, offset: int) -> str:
    yaml = _round_trip()
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _replace(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_opml(config: Config) -> bytes:
    """The config's sources (its own and those from its OPML files) as one OPML 2.0 document."""
    feeds = [
        OpmlFeed(feed.url, feed.name if feed.name != feed.url else "", feed.tags, feed.kind) for feed in config.feeds
    ]
    return write_opml(feeds, f"newsmon sources ({config.path.name})")
