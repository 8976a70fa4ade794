"""The typed configuration: loaded once from YAML, validated with messages that name file, key and value.

Relative paths are relative to the config file. Unknown keys are errors. Secrets in alert URLs may be
written as ${ENV_VAR} and are expanded from the environment at load time. The settings dataclasses (and
their bounds) are in core.settings; the validator is core.validate, shared with the taxonomy.
"""

from __future__ import annotations

import os
import re
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import apprise

from alerts.keywords import compile_keyword
from core.errors import ConfigError, KeywordError, TaxonomyError
from core.records import FeedKind
from core.settings import (
    AlertRule,
    Config,
    FeedConfig,
    HttpPolicy,
    MaintenanceSettings,
    NotificationSettings,
    PipelineSettings,
    PollingPolicy,
    ScheduleSettings,
    SpikeSettings,
    StoryPolicy,
    WarehouseSettings,
    WatchSettings,
    WebSubSettings,
)
from core.validate import Converter, TreeReader, load_yaml, read_section
from extractors.classify import classifier_for
from extractors.language import normalize_language_tag
from extractors.opml import normalize_tag, parse_opml
from extractors.taxonomy import Taxonomy
from extractors.urls import canonical_url
from newsmon.resources import bundled_seeds_dir, bundled_taxonomy_file

_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DASK_ADDRESS = re.compile(r"(tcp|tls)://[^\s/:]+(:\d{1,5})?|(tcp|tls)://\[[0-9a-fA-F:.]+\](:\d{1,5})?")
# Config fields that are not keys of the file.
_DERIVED = frozenset({"path", "taxonomy_sources", "source_notes"})
# `watch:` keys that set the schedule (the rest of ScheduleSettings comes from `polling:` or is fixed).
_SCHEDULE_KEYS = frozenset(
    {"min_interval_seconds", "max_interval_seconds", "initial_interval_seconds", "factor", "jitter"}
    | {"push_poll_interval_seconds"}
)
_WATCH_KEYS = _SCHEDULE_KEYS | {"batch_size", "batch_wait_seconds", "listen", "poll_concurrency"}


def _local_path(reader: TreeReader, value: Any, key: str, base: Path) -> Path:
    path = Path(reader.text(value, key)).expanduser()
    return path if path.is_absolute() else (base.parent / path).resolve()


def _dask_address(reader: TreeReader, value: Any, key: str) -> str | None:
    if value is None:
        return None
    address = reader.text(value, key)
    if not _DASK_ADDRESS.fullmatch(address):
        raise reader.fail(key, f"{address!r} is not a Dask scheduler address (tcp://host:8786 or tls://host:8786)")
    return address


def _tags(reader: TreeReader, value: Any, key: str) -> tuple[str, ...]:
    tags = tuple(dict.fromkeys(normalize_tag(tag) for tag in reader.string_list(value, key)))
    if "" in tags:
        raise reader.fail(key, "a tag must have a letter or digit")
    return tags


def _feed(reader: TreeReader, item: Any, key: str) -> FeedConfig:
    entry = reader.mapping({"url": item} if isinstance(item, str) else item, key, {"url", "sitemap", "name", "tags"})
    if "url" not in entry and "sitemap" not in entry:
        raise reader.fail(f"{key}.url", "missing (url: for a feed, or sitemap: for a news sitemap)")
    if "url" in entry and "sitemap" in entry:
        raise reader.fail(key, "give url: (a feed) or sitemap: (a news sitemap), not both")
    field_name = "url" if "url" in entry else "sitemap"
    url = reader.text(entry[field_name], f"{key}.{field_name}")
    try:
        canonical_url(url)
    except ValueError as exc:
        raise reader.fail(f"{key}.{field_name}", str(exc)) from None
    name = reader.text(entry["name"], f"{key}.name") if "name" in entry else url
    kind: FeedKind = "feed" if field_name == "url" else "sitemap"
    return FeedConfig(url=url, name=name, kind=kind, tags=_tags(reader, entry.get("tags"), f"{key}.tags"))


def _feeds(reader: TreeReader, raw: Any, opml_feeds: tuple[FeedConfig, ...]) -> tuple[FeedConfig, ...]:
    """`feeds:` entries, then those of the `opml:` files not configured already (the config's own entry
    wins; its tags are merged with the OPML categories). A URL twice in `feeds:` is an error."""
    if raw is None and not opml_feeds:
        raise reader.fail("feeds", "missing: list at least one feed (- url: https://…) or an opml: file")
    items = reader.typed(raw, "feeds", list, "a list of feeds") if raw is not None else []
    feeds: dict[str, FeedConfig] = {}
    for index, item in enumerate(items):
        feed = _feed(reader, item, f"feeds[{index}]")
        canonical = canonical_url(feed.url)
        if canonical in feeds:
            key = "url" if feed.kind == "feed" else "sitemap"
            raise reader.fail(f"feeds[{index}].{key}", f"duplicate feed {feed.url!r}")
        feeds[canonical] = feed
    for feed in opml_feeds:
        canonical = canonical_url(feed.url)
        known = feeds.get(canonical)
        feeds[canonical] = feed if known is None else replace(known, tags=tuple(dict.fromkeys(known.tags + feed.tags)))
    return tuple(feeds.values())


def _opml_paths(reader: TreeReader, raw: Any, base: Path) -> tuple[Path, ...]:
    values = [raw] if isinstance(raw, str) else reader.string_list(raw, "opml")
    return tuple(_local_path(reader, value, f"opml[{index}]", base) for index, value in enumerate(values))


def _opml_feeds(reader: TreeReader, paths: tuple[Path, ...]) -> tuple[tuple[FeedConfig, ...], tuple[str, ...]]:
    """The subscriptions of the `opml:` files, in file order (listparser via extractors.opml), and notes
    on what each file left out (outlines without an http(s) feed URL) or merged (duplicates)."""
    feeds: list[FeedConfig] = []
    notes: list[str] = []
    for index, path in enumerate(paths):
        key = f"opml[{index}]"
        try:
            document = path.read_bytes()
        except OSError as exc:
            raise reader.fail(key, f"cannot read OPML file {path}: {exc.strerror or exc}") from None
        listed = parse_opml(document)
        if listed.error:
            raise reader.fail(key, f"{path}: {listed.error}")
        feeds.extend(FeedConfig(f.url, f.title or f.url, f.kind, f.tags) for f in listed.feeds)
        notes.extend(f"{path.name}: skipped {outline!r}: {reason}" for outline, reason in listed.skipped)
        if listed.duplicates:
            notes.append(f"{path.name}: {listed.duplicates} duplicate outline(s) merged into the first (tags combined)")
    return tuple(feeds), tuple(notes)


def _expand_env(reader: TreeReader, value: str, key: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise reader.fail(key, f"environment variable {name} is not set")
        return os.environ[name]

    return _ENV_VAR.sub(substitute, value)


def _spike(reader: TreeReader, raw: Any, key: str) -> SpikeSettings | None:
    if raw is None or raw is False:
        return None
    if raw is True:
        return SpikeSettings()
    return read_section(reader, SpikeSettings, raw, key)


def _lowered(reader: TreeReader) -> Converter:
    return lambda value, key: tuple(item.lower() for item in reader.string_list(value, key))


def _rule(reader: TreeReader, item: Any, index: int, names: set[str]) -> AlertRule:
    entry = reader.mapping(item, f"alerts[{index}]", {f.name for f in fields(AlertRule)})
    name = reader.text(entry.get("name"), f"alerts[{index}].name")
    if name in names:
        raise reader.fail(f"alerts[{index}].name", f"duplicate rule name {name!r}")
    key = f"alerts[{name}]"
    special: dict[str, Converter] = {
        "name": reader.text,
        "platforms": _lowered(reader),
        "topics": _lowered(reader),
        "languages": _lowered(reader),
        "notify": lambda value, k: tuple(_expand_env(reader, url, k) for url in reader.string_list(value, k)),
        "spike": lambda value, k: _spike(reader, value, k),
        "tags": lambda value, k: _tags(reader, value, k),
        "per": lambda value, k: _per(reader, value, k),
        "story_updates": lambda value, k: _story_updates(reader, value, k),
    }
    rule = read_section(reader, AlertRule, entry, key, special)
    if not rule.notify:
        raise reader.fail(f"{key}.notify", "a rule needs at least one Apprise URL to notify")
    return rule


def _per(reader: TreeReader, value: Any, key: str) -> Literal["article", "story"]:
    if value not in ("article", "story"):
        raise reader.fail(key, f"expected 'article' or 'story', got {value!r}")
    return "story" if value == "story" else "article"


def _story_updates(reader: TreeReader, value: Any, key: str) -> int | str:
    """Minutes between update messages about one story, or 'digest' (updates only ride along in a digest)."""
    if value == "digest":
        return "digest"
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise reader.fail(key, f"expected a number of minutes (>= 1) or 'digest', got {value!r}")
    return value


def _alerts(reader: TreeReader, raw: Any) -> tuple[AlertRule, ...]:
    if raw is None:
        return ()
    rules: list[AlertRule] = []
    names: set[str] = set()
    for index, item in enumerate(reader.typed(raw, "alerts", list, "a list of rules")):
        rule = _rule(reader, item, index, names)
        names.add(rule.name)
        rules.append(rule)
    return tuple(rules)


def _timezone(reader: TreeReader, raw: Any) -> str | None:
    if raw is None:
        return None
    name = reader.text(raw, "timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.fail("timezone", f"unknown time zone {name!r} (an IANA name such as Asia/Tokyo or UTC)") from None
    return name


_WAREHOUSE_KEYS = {"path", "catalog", "data_path", "local_dir"}
_LOCAL_DEFAULT = ".newsmon-local"  # this machine's derived files, next to the config (PostgreSQL catalog)
_LITERAL_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*(?!\$\{)", re.IGNORECASE)
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _warehouse(reader: TreeReader, raw: Any, base: Path) -> WarehouseSettings:
    """`warehouse: PATH` (a folder: SQLite catalog + data files) or a mapping: `path`, or `catalog` (a
    PostgreSQL connection string) + `data_path` (shared by every machine) + optional `local_dir`."""
    if raw is None:
        raise reader.fail("warehouse", "missing: the warehouse folder to write, e.g. data/newsmon")
    if isinstance(raw, str):
        return WarehouseSettings.embedded(_local_path(reader, raw, "warehouse", base))
    section = reader.mapping(raw, "warehouse", _WAREHOUSE_KEYS)
    if "path" in section:
        extra = sorted(set(section) - {"path"})
        if extra:
            raise reader.fail(f"warehouse.{extra[0]}", "goes with warehouse.catalog, not with warehouse.path")
        return WarehouseSettings.embedded(_local_path(reader, section["path"], "warehouse.path", base))
    if "catalog" not in section:
        raise reader.fail("warehouse", "give either path (a local folder) or catalog + data_path (PostgreSQL)")
    dsn = _postgres_dsn(reader, section["catalog"])
    if "data_path" not in section:
        raise reader.fail("warehouse.data_path", "missing: the data folder every writer and reader can reach")
    data = reader.text(section["data_path"], "warehouse.data_path")
    if _URL_SCHEME.match(data):
        raise reader.fail(
            "warehouse.data_path",
            f"{data!r}: object storage needs DuckDB's httpfs extension, which no package ships for this DuckDB "
            "version (nothing is downloaded at run time); use a shared filesystem path (NFS, SMB, a mount)",
        )
    local = _local_path(reader, section.get("local_dir", _LOCAL_DEFAULT), "warehouse.local_dir", base)
    return WarehouseSettings.postgres(dsn, str(_local_path(reader, data, "warehouse.data_path", base)), local)


def _postgres_dsn(reader: TreeReader, value: Any) -> str:
    text = reader.text(value, "warehouse.catalog")
    kind, _, dsn = text.partition(":")
    if kind != "postgres" or not dsn.strip():
        raise reader.fail(
            "warehouse.catalog",
            f"{text!r:.80} is not 'postgres:<libpq connection string>', e.g. "
            "'postgres:host=db.internal dbname=newsmon user=newsmon'",
        )
    if _LITERAL_PASSWORD.search(dsn):
        raise reader.fail(
            "warehouse.catalog",
            "a password written in the config: set PGPASSWORD (or ~/.pgpass), or write password=${ENV_VAR}",
        )
    return _expand_env(reader, dsn.strip(), "warehouse.catalog")


def parse_config(text: str, path: Path) -> Config:
    reader = TreeReader(str(path), ConfigError)
    top = reader.mapping(load_yaml(text, str(path), ConfigError), "", {f.name for f in fields(Config)} - _DERIVED)
    opml = _opml_paths(reader, top["opml"], path) if "opml" in top else ()
    opml_feeds, notes = _opml_feeds(reader, opml)
    return Config(
        path=path,
        warehouse=_warehouse(reader, top.get("warehouse"), path),
        seeds=_local_path(reader, top["seeds"], "seeds", path) if "seeds" in top else bundled_seeds_dir(),
        taxonomy=_local_path(reader, top["taxonomy"], "taxonomy", path) if "taxonomy" in top else None,
        network=read_section(reader, HttpPolicy, top.get("network"), "network"),
        polling=read_section(reader, PollingPolicy, top.get("polling"), "polling"),
        pipeline=read_section(
            reader,
            PipelineSettings,
            top.get("pipeline"),
            "pipeline",
            {"dask_address": lambda v, k: _dask_address(reader, v, k)},
        ),
        feeds=_feeds(reader, top.get("feeds"), opml_feeds),
        opml=opml,
        source_notes=notes,
        alerts=_alerts(reader, top.get("alerts")),
        notifications=read_section(reader, NotificationSettings, top.get("notifications"), "notifications"),
        timezone=_timezone(reader, top.get("timezone")),
        stories=read_section(reader, StoryPolicy, top.get("stories"), "stories"),
        watch=_watch(reader, top.get("watch"), read_section(reader, PollingPolicy, top.get("polling"), "polling")),
        websub=_websub(reader, top.get("websub")),
        maintenance=read_section(reader, MaintenanceSettings, top.get("maintenance"), "maintenance"),
    )


def _watch(reader: TreeReader, raw: Any, polling: PollingPolicy) -> WatchSettings:
    """`watch:`; failing feeds back off as `polling:` says, as in `newsmon run`."""
    section = reader.mapping(raw, "watch", _WATCH_KEYS)
    schedule = replace(
        read_section(reader, ScheduleSettings, {k: v for k, v in section.items() if k in _SCHEDULE_KEYS}, "watch"),
        backoff_step_seconds=polling.backoff_step_seconds,
        backoff_cap_seconds=polling.backoff_cap_seconds,
    )
    if schedule.jitter > 0.5:
        raise reader.fail("watch.jitter", f"must be at most 0.5 (a share of the interval), got {section['jitter']!r}")
    if schedule.min_interval_seconds > schedule.max_interval_seconds:
        raise reader.fail(
            "watch.min_interval_seconds",
            f"{schedule.min_interval_seconds:g} is above watch.max_interval_seconds "
            f"({schedule.max_interval_seconds:g})",
        )
    rest = {k: v for k, v in section.items() if k in ("batch_size", "batch_wait_seconds", "poll_concurrency")}
    settings = read_section(reader, WatchSettings, rest, "watch", {"schedule": lambda v, k: schedule})
    host, port = _listen(reader, section.get("listen", f"{settings.bind_host}:{settings.bind_port}"))
    return replace(settings, schedule=schedule, bind_host=host, bind_port=port)


def _listen(reader: TreeReader, value: Any) -> tuple[str, int]:
    text = reader.text(value, "watch.listen")
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise reader.fail("watch.listen", f"{text!r} is not host:port (e.g. 127.0.0.1:8765 or 0.0.0.0:8765)")
    return host.strip("[]"), int(port)


def _websub(reader: TreeReader, raw: Any) -> WebSubSettings:
    settings = read_section(
        reader, WebSubSettings, raw, "websub", {"callback_url": lambda v, k: _callback_url(reader, v, k)}
    )
    if settings.enabled and not settings.callback_url:
        raise reader.fail("websub.callback_url", "missing: the public URL hubs reach this watcher's /websub/ at")
    return settings


def _callback_url(reader: TreeReader, value: Any, key: str) -> str:
    url = reader.text(value, key)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise reader.fail(key, f"{url!r} is not an http(s) URL (e.g. https://newsmon.example.com/websub)")
    return url.rstrip("/")


MAX_CONFIG_BYTES = 10 * 1024 * 1024


def _read(path: Path, what: str, config_path: Path) -> str:
    """The file as text: UTF-8 (with or without a BOM), at most MAX_CONFIG_BYTES."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: {what}: file {path} not found") from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: {what}: cannot read {path}: {exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{config_path}: {what}: {path} is larger than {MAX_CONFIG_BYTES // 2**20} MB")
    if b"\0" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{config_path}: {what}: {path} is UTF-16/32 or has NUL bytes: save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_path}: {what}: {path} is not UTF-8 (byte {exc.start}): save it as UTF-8") from None


def _taxonomy_sources(config: Config) -> tuple[tuple[str, str], ...]:
    bundled = bundled_taxonomy_file()
    sources = [(str(bundled), bundled.read_text(encoding="utf-8"))]
    if config.taxonomy is not None:
        sources.append((str(config.taxonomy), _read(config.taxonomy, "taxonomy", config.path)))
    return tuple(sources)


def _check_alerts(config: Config, taxonomy: Taxonomy) -> None:
    reader = TreeReader(str(config.path), ConfigError)
    for rule in config.alerts:
        key = f"alerts[{rule.name}]"
        for field_name, values, known in (
            ("platforms", rule.platforms, taxonomy.platforms),
            ("topics", rule.topics, taxonomy.topics),
        ):
            for value in values:
                if value not in known:
                    raise reader.fail(
                        f"{key}.{field_name}",
                        f"unknown {field_name[:-1]} {value!r} (known: {', '.join(sorted(known))})",
                    )
        for language in rule.languages:
            if normalize_language_tag(language) != language and language != "und":
                raise reader.fail(
                    f"{key}.languages", f"{language!r} is not a language code such as ja, en, zh-cn, zh-tw, und"
                )
        for keyword in rule.keywords:
            try:
                compile_keyword(keyword)
            except KeywordError as exc:
                raise reader.fail(f"{key}.keywords", str(exc)) from None
        for index, url in enumerate(rule.notify):
            if apprise.Apprise.instantiate(url) is None:
                # Never echo the URL: it may hold a webhook token.
                raise reader.fail(f"{key}.notify[{index}]", "not an Apprise URL this installation can send to")


def load_config(path: Path) -> Config:
    """Read and validate a config file (and the taxonomy it names); every problem is a one-line ConfigError."""
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        config = parse_config(_read(path, "(file)", path), path.resolve())
    except RecursionError:
        raise ConfigError(f"{path}: (document): values are nested too deeply") from None
    if not config.seeds.is_dir():
        raise ConfigError(f"{path}: seeds: folder {config.seeds} does not exist")
    sources = _taxonomy_sources(config)
    try:
        taxonomy = classifier_for(sources).taxonomy
    except TaxonomyError as exc:
        raise ConfigError(f"{path}: taxonomy: {exc}") from None
    _check_alerts(config, taxonomy)
    return replace(config, taxonomy_sources=sources)
