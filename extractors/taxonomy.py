"""The platform/topic taxonomy: parsed and validated from YAML text, merged with a user's overrides.

Shape and semantics are documented at the top of newsmon/data/taxonomy.yaml. Problems are TaxonomyError
with the file and key path, like config errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import TaxonomyError
from core.text import LANGUAGES
from core.validate import TreeReader, load_yaml

DEFAULT_WINDOW = 120
_SLUG = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
_RULE_KEYS = {"aliases", "not_before", "not_after", "requires_nearby", "forbids_nearby", "case_sensitive", "window"}


@dataclass(frozen=True)
class AliasRule:
    aliases: tuple[str, ...]  # empty: every alias of the platform
    not_before: re.Pattern[str] | None = None
    not_after: re.Pattern[str] | None = None
    requires_nearby: tuple[str, ...] = ()
    forbids_nearby: tuple[str, ...] = ()
    case_sensitive: bool = False
    window: int = DEFAULT_WINDOW


@dataclass(frozen=True)
class Platform:
    slug: str
    label: str
    aliases: tuple[str, ...]
    rules: tuple[AliasRule, ...] = ()


@dataclass(frozen=True)
class Topic:
    slug: str
    label: str
    keywords: tuple[tuple[str, float], ...]
    threshold: float = 3.0
    iptc: str | None = None


@dataclass(frozen=True)
class Taxonomy:
    platforms: Mapping[str, Platform] = field(default_factory=dict)
    topics: Mapping[str, Topic] = field(default_factory=dict)


def _per_language(reader: TreeReader, value: Any, key: str) -> Mapping[str, Any]:
    return reader.mapping(value, key, LANGUAGES, noun="language")


def _rule(walker: TreeReader, raw: Any, key: str, aliases: tuple[str, ...]) -> AliasRule:
    rule = walker.mapping(raw, key, _RULE_KEYS)
    targets = walker.string_list(rule.get("aliases"), f"{key}.aliases")
    for alias in targets:
        if alias not in aliases:
            raise walker.fail(f"{key}.aliases", f"{alias!r} is not one of this platform's aliases")
    window = walker.integer(rule.get("window", DEFAULT_WINDOW), f"{key}.window", 1)
    return AliasRule(
        aliases=targets,
        not_before=walker.regex(rule.get("not_before"), f"{key}.not_before"),
        not_after=walker.regex(rule.get("not_after"), f"{key}.not_after"),
        requires_nearby=walker.string_list(rule.get("requires_nearby"), f"{key}.requires_nearby"),
        forbids_nearby=walker.string_list(rule.get("forbids_nearby"), f"{key}.forbids_nearby"),
        case_sensitive=bool(rule.get("case_sensitive", False)),
        window=window,
    )


def _platform(walker: TreeReader, slug: str, raw: Any, base: Platform | None) -> Platform:
    key = f"platforms.{slug}"
    entry = walker.mapping(raw, key, {"label", "aliases", "rules", "replace"})
    keep = base if base is not None and not entry.get("replace") else None
    aliases = list(keep.aliases if keep else ())
    for language, names in _per_language(walker, entry.get("aliases"), f"{key}.aliases").items():
        aliases += [a for a in walker.string_list(names, f"{key}.aliases.{language}") if a not in aliases]
    if not aliases:
        raise walker.fail(f"{key}.aliases", "a platform needs at least one alias")
    rules_raw = entry.get("rules") or []
    if not isinstance(rules_raw, list):
        raise walker.fail(f"{key}.rules", "expected a list of rules")
    rules = tuple(_rule(walker, r, f"{key}.rules[{i}]", tuple(aliases)) for i, r in enumerate(rules_raw))
    label = str(entry.get("label") or (keep.label if keep else slug))
    return Platform(slug, label, tuple(aliases), (*(keep.rules if keep else ()), *rules))


def _topic(walker: TreeReader, slug: str, raw: Any, base: Topic | None) -> Topic:
    key = f"topics.{slug}"
    entry = walker.mapping(raw, key, {"label", "keywords", "threshold", "iptc", "replace"})
    keep = base if base is not None and not entry.get("replace") else None
    weights = dict(keep.keywords if keep else ())
    for language, terms in _per_language(walker, entry.get("keywords"), f"{key}.keywords").items():
        for term, weight in walker.mapping(terms, f"{key}.keywords.{language}").items():
            weights[str(term)] = walker.positive(weight, f"{key}.keywords.{language}.{term}", "weight")
    if not weights:
        raise walker.fail(f"{key}.keywords", "a topic needs at least one keyword")
    threshold = walker.positive(entry.get("threshold", keep.threshold if keep else 3.0), f"{key}.threshold")
    label = str(entry.get("label") or (keep.label if keep else slug))
    iptc = entry.get("iptc", keep.iptc if keep else None)
    return Topic(slug, label, tuple(weights.items()), float(threshold), str(iptc) if iptc else None)


def parse_taxonomy(text: str, source: str, base: Taxonomy | None = None) -> Taxonomy:
    """Parse a taxonomy document; with `base`, merge it on top (add slugs, extend or replace entries)."""
    walker = TreeReader(source, TaxonomyError)
    top = walker.mapping(load_yaml(text, source, TaxonomyError), "", {"version", "platforms", "topics"})
    platforms = dict(base.platforms) if base else {}
    for slug, entry in walker.mapping(top.get("platforms"), "platforms").items():
        if not _SLUG.match(str(slug)):
            raise walker.fail(f"platforms.{slug}", "a slug is lowercase letters, digits, '.' and '-'")
        platforms[str(slug)] = _platform(walker, str(slug), entry, platforms.get(str(slug)))
    topics = dict(base.topics) if base else {}
    for slug, entry in walker.mapping(top.get("topics"), "topics").items():
        if not _SLUG.match(str(slug)):
            raise walker.fail(f"topics.{slug}", "a slug is lowercase letters, digits, '.' and '-'")
        topics[str(slug)] = _topic(walker, str(slug), entry, topics.get(str(slug)))
    return Taxonomy(platforms, topics)
