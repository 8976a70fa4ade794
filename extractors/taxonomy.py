"""The platform/topic taxonomy: parsed and validated from YAML text, merged with a user's overrides.

Shape and semantics are documented at the top of newsmon/data/taxonomy.yaml. Problems are TaxonomyError
with the file and key path, like config errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from core.errors import TaxonomyError

LANGUAGES = ("en", "zh-cn", "zh-tw", "ja", "ko")
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


class _Walker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> TaxonomyError:
        return TaxonomyError(f"{self.source}: {key}: {problem}")

    def mapping(self, value: Any, key: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {value!r:.60}")
        return value

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
            raise self.fail(key, "expected a list of non-empty strings")
        return tuple(str(v).strip() for v in value)

    def regex(self, value: Any, key: str) -> re.Pattern[str] | None:
        if value is None:
            return None
        try:
            return re.compile(str(value), re.IGNORECASE)
        except re.error as exc:
            raise self.fail(key, f"bad regular expression: {exc}") from None

    def per_language(self, value: Any, key: str) -> Mapping[str, Any]:
        section = self.mapping(value, key)
        for language in section:
            if language not in LANGUAGES:
                raise self.fail(f"{key}.{language}", f"unknown language (expected one of: {', '.join(LANGUAGES)})")
        return section


def _rule(walker: _Walker, raw: Any, key: str, aliases: tuple[str, ...]) -> AliasRule:
    rule = walker.mapping(raw, key)
    for name in rule:
        if name not in _RULE_KEYS:
            raise walker.fail(f"{key}.{name}", f"unknown key (expected one of: {', '.join(sorted(_RULE_KEYS))})")
    targets = walker.strings(rule.get("aliases"), f"{key}.aliases")
    for alias in targets:
        if alias not in aliases:
            raise walker.fail(f"{key}.aliases", f"{alias!r} is not one of this platform's aliases")
    window = rule.get("window", DEFAULT_WINDOW)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise walker.fail(f"{key}.window", f"expected a positive whole number, got {window!r}")
    return AliasRule(
        aliases=targets,
        not_before=walker.regex(rule.get("not_before"), f"{key}.not_before"),
        not_after=walker.regex(rule.get("not_after"), f"{key}.not_after"),
        requires_nearby=walker.strings(rule.get("requires_nearby"), f"{key}.requires_nearby"),
        forbids_nearby=walker.strings(rule.get("forbids_nearby"), f"{key}.forbids_nearby"),
        case_sensitive=bool(rule.get("case_sensitive", False)),
        window=window,
    )


def _platform(walker: _Walker, slug: str, raw: Any, base: Platform | None) -> Platform:
    key = f"platforms.{slug}"
    entry = walker.mapping(raw, key)
    for name in entry:
        if name not in {"label", "aliases", "rules", "replace"}:
            raise walker.fail(f"{key}.{name}", "unknown key (expected label, aliases, rules, replace)")
    keep = base if base is not None and not entry.get("replace") else None
    aliases = list(keep.aliases if keep else ())
    for language, names in walker.per_language(entry.get("aliases"), f"{key}.aliases").items():
        aliases += [a for a in walker.strings(names, f"{key}.aliases.{language}") if a not in aliases]
    if not aliases:
        raise walker.fail(f"{key}.aliases", "a platform needs at least one alias")
    rules_raw = entry.get("rules") or []
    if not isinstance(rules_raw, list):
        raise walker.fail(f"{key}.rules", "expected a list of rules")
    rules = tuple(_rule(walker, r, f"{key}.rules[{i}]", tuple(aliases)) for i, r in enumerate(rules_raw))
    label = str(entry.get("label") or (keep.label if keep else slug))
    return Platform(slug, label, tuple(aliases), (*(keep.rules if keep else ()), *rules))


def _topic(walker: _Walker, slug: str, raw: Any, base: Topic | None) -> Topic:
    key = f"topics.{slug}"
    entry = walker.mapping(raw, key)
    for name in entry:
        if name not in {"label", "keywords", "threshold", "iptc", "replace"}:
            raise walker.fail(f"{key}.{name}", "unknown key (expected label, keywords, threshold, iptc, replace)")
    keep = base if base is not None and not entry.get("replace") else None
    weights = dict(keep.keywords if keep else ())
    for language, terms in walker.per_language(entry.get("keywords"), f"{key}.keywords").items():
        for term, weight in walker.mapping(terms, f"{key}.keywords.{language}").items():
            if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
                raise walker.fail(
                    f"{key}.keywords.{language}.{term}", f"weight must be a positive number, got {weight!r}"
                )
            weights[str(term)] = float(weight)
    if not weights:
        raise walker.fail(f"{key}.keywords", "a topic needs at least one keyword")
    threshold = entry.get("threshold", keep.threshold if keep else 3.0)
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold <= 0:
        raise walker.fail(f"{key}.threshold", f"expected a positive number, got {threshold!r}")
    label = str(entry.get("label") or (keep.label if keep else slug))
    iptc = entry.get("iptc", keep.iptc if keep else None)
    return Topic(slug, label, tuple(weights.items()), float(threshold), str(iptc) if iptc else None)


def parse_taxonomy(text: str, source: str, base: Taxonomy | None = None) -> Taxonomy:
    """Parse a taxonomy document; with `base`, merge it on top (add slugs, extend or replace entries)."""
    walker = _Walker(source)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{source}: not valid YAML ({exc})") from None
    top = walker.mapping(raw, "(top level)")
    for name in top:
        if name not in {"version", "platforms", "topics"}:
            raise walker.fail(str(name), "unknown key (expected version, platforms, topics)")
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
