"""The typed configuration: loaded once from YAML, validated with messages that name file, key and value.

Relative paths are relative to the config file. Unknown keys are errors. Secrets in alert URLs may be
written as ${ENV_VAR} and are expanded from the environment at load time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, TypeVar

import apprise
import yaml

from alerts.keywords import compile_keyword
from core.errors import ConfigError, KeywordError, TaxonomyError
from core.settings import (
    AlertRule,
    Config,
    FeedConfig,
    HttpPolicy,
    MaintenanceSettings,
    NotificationSettings,
    PipelineSettings,
    PollingPolicy,
    SpikeSettings,
    WarehouseSettings,
)
from extractors.classify import classifier_for
from extractors.language import normalize_language_tag
from extractors.taxonomy import Taxonomy
from extractors.urls import canonical_url
from newsmon.resources import bundled_seeds_dir, bundled_taxonomy_file

T = TypeVar("T")
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Reader:
    """Walks the YAML tree and turns every problem into a ConfigError naming the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}")

    def mapping(self, value: Any, key: str, allowed: set[str]) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__} {value!r:.60}")
        for name in value:
            if name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                raise self.fail(where, f"unknown key (expected one of: {', '.join(sorted(allowed))})")
        return value

    def typed(self, value: Any, key: str, kind: type[T] | tuple[type, ...], what: str) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(key, f"expected {what}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {what}, got {value!r:.80}")
        return value

    def number(self, value: Any, key: str, minimum: float = 0.0) -> float:
        number = float(self.typed(value, key, (int, float), "a number"))
        if number < minimum:
            raise self.fail(key, f"must be at least {minimum:g}, got {value!r}")
        return number

    def integer(self, value: Any, key: str, minimum: int = 0) -> int:
        number = int(self.typed(value, key, int, "a whole number"))
        if number < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value!r}")
        return number

    def text(self, value: Any, key: str) -> str:
        text = str(self.typed(value, key, str, "a string")).strip()
        if not text:
            raise self.fail(key, "must not be empty")
        return text

    def string_list(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items = self.typed(value, key, list, "a list")
        return tuple(self.text(item, f"{key}[{index}]") for index, item in enumerate(items))

    def local_path(self, value: Any, key: str) -> Path:
        path = Path(self.text(value, key)).expanduser()
        return path if path.is_absolute() else (self.path.parent / path).resolve()


def _dataclass_from(
    reader: _Reader, cls: type[T], raw: Any, key: str, converters: Mapping[str, Callable[[Any, str], Any]]
) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    section = reader.mapping(raw, key, set(converters))
    values = {name: converters[name](value, f"{key}.{name}") for name, value in section.items() if name in names}
    return cls(**values)


def _network(reader: _Reader, raw: Any) -> HttpPolicy:
    def num(minimum: float) -> Callable[[Any, str], float]:
        return lambda value, key: reader.number(value, key, minimum)

    def whole(minimum: int) -> Callable[[Any, str], int]:
        return lambda value, key: reader.integer(value, key, minimum)

    converters: dict[str, Callable[[Any, str], Any]] = {
        "allow_hosts": reader.string_list,
        "user_agent": reader.text,
        "connect_timeout": num(0.1),
        "read_timeout": num(0.1),
        "deadline_seconds": num(1),
        "max_feed_bytes": whole(1024),
        "max_page_bytes": whole(1024),
        "max_redirects": whole(0),
        "retries": whole(0),
        "backoff_seconds": num(0),
        "retry_after_cap_seconds": num(0),
        "per_host_concurrency": whole(1),
        "per_host_min_interval": num(0),
        "max_connections": whole(1),
    }
    return _dataclass_from(reader, HttpPolicy, raw, "network", converters)


def _polling(reader: _Reader, raw: Any) -> PollingPolicy:
    converters: dict[str, Callable[[Any, str], Any]] = {
        name: (lambda value, key: reader.number(value, key, 0))
        for name in ("min_interval_seconds", "max_interval_seconds", "backoff_step_seconds", "backoff_cap_seconds")
    }
    return _dataclass_from(reader, PollingPolicy, raw, "polling", converters)


def _pipeline(reader: _Reader, raw: Any) -> PipelineSettings:
    converters: dict[str, Callable[[Any, str], Any]] = {
        "batch_size": lambda v, k: reader.integer(v, k, 1),
        "max_entries_per_feed": lambda v, k: reader.integer(v, k, 1),
        "min_text_chars": lambda v, k: reader.integer(v, k, 0),
        "max_text_chars": lambda v, k: reader.integer(v, k, 100),
        "extract_workers": lambda v, k: reader.integer(v, k, 0),
        "fetch_pages": lambda v, k: bool(reader.typed(v, k, bool, "true or false")),
        "dask_address": lambda v, k: _dask_address(reader, v, k),
    }
    return _dataclass_from(reader, PipelineSettings, raw, "pipeline", converters)


_DASK_ADDRESS = re.compile(r"(tcp|tls)://[^\s/:]+(:\d{1,5})?|(tcp|tls)://\[[0-9a-fA-F:.]+\](:\d{1,5})?")


def _dask_address(reader: _Reader, value: Any, key: str) -> str | None:
    if value is None:
        return None
    address = reader.text(value, key)
    if not _DASK_ADDRESS.fullmatch(address):
        raise reader.fail(key, f"{address!r} is not a Dask scheduler address (tcp://host:8786 or tls://host:8786)")
    return address


def _feeds(reader: _Reader, raw: Any) -> tuple[FeedConfig, ...]:
    if raw is None:
        raise reader.fail("feeds", "missing: list at least one feed (- url: https://…)")
    items = reader.typed(raw, "feeds", list, "a list of feeds")
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        key = f"feeds[{index}]"
        if isinstance(item, str):
            item = {"url": item}
        entry = reader.mapping(item, key, {"url", "name"})
        url = reader.text(entry.get("url"), f"{key}.url") if "url" in entry else None
        if url is None:
            raise reader.fail(f"{key}.url", "missing")
        try:
            canonical = canonical_url(url)
        except ValueError as exc:
            raise reader.fail(f"{key}.url", str(exc)) from None
        if canonical in seen:
            raise reader.fail(f"{key}.url", f"duplicate feed {url!r}")
        seen.add(canonical)
        name = reader.text(entry["name"], f"{key}.name") if "name" in entry else url
        feeds.append(FeedConfig(url=url, name=name))
    return tuple(feeds)


def _expand_env(value: str, key: str, reader: _Reader) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise reader.fail(key, f"environment variable {name} is not set")
        return os.environ[name]

    return _ENV_VAR.sub(substitute, value)


def _spike(reader: _Reader, raw: Any, key: str) -> SpikeSettings | None:
    if raw is None or raw is False:
        return None
    if raw is True:
        return SpikeSettings()
    converters: dict[str, Callable[[Any, str], Any]] = {
        "days": lambda v, k: reader.integer(v, k, 2),
        "sigma": lambda v, k: reader.number(v, k, 0),
        "min_mentions": lambda v, k: reader.integer(v, k, 1),
    }
    return _dataclass_from(reader, SpikeSettings, raw, key, converters)


def _alerts(reader: _Reader, raw: Any) -> tuple[AlertRule, ...]:
    if raw is None:
        return ()
    allowed = {
        "name",
        "platforms",
        "topics",
        "languages",
        "keywords",
        "include_duplicates",
        "notify",
        "max_per_message",
        "spike",
    }
    rules: list[AlertRule] = []
    names: set[str] = set()
    for index, item in enumerate(reader.typed(raw, "alerts", list, "a list of rules")):
        entry = reader.mapping(item, f"alerts[{index}]", allowed)
        name = reader.text(entry.get("name"), f"alerts[{index}].name")
        if name in names:
            raise reader.fail(f"alerts[{index}].name", f"duplicate rule name {name!r}")
        names.add(name)
        key = f"alerts[{name}]"
        notify = tuple(
            _expand_env(url, f"{key}.notify", reader)
            for url in reader.string_list(entry.get("notify"), f"{key}.notify")
        )
        rules.append(
            AlertRule(
                name=name,
                platforms=tuple(p.lower() for p in reader.string_list(entry.get("platforms"), f"{key}.platforms")),
                topics=tuple(t.lower() for t in reader.string_list(entry.get("topics"), f"{key}.topics")),
                languages=tuple(
                    lang.lower() for lang in reader.string_list(entry.get("languages"), f"{key}.languages")
                ),
                keywords=reader.string_list(entry.get("keywords"), f"{key}.keywords"),
                include_duplicates=bool(
                    reader.typed(
                        entry.get("include_duplicates", False), f"{key}.include_duplicates", bool, "true or false"
                    )
                ),
                notify=notify,
                max_per_message=reader.integer(entry.get("max_per_message", 20), f"{key}.max_per_message", 1),
                spike=_spike(reader, entry.get("spike"), f"{key}.spike"),
            )
        )
        if not notify:
            raise reader.fail(f"{key}.notify", "a rule needs at least one Apprise URL to notify")
    return tuple(rules)


def _notifications(reader: _Reader, raw: Any) -> NotificationSettings:
    converters: dict[str, Callable[[Any, str], Any]] = {
        "max_attempts": lambda v, k: reader.integer(v, k, 1),
        "timeout_seconds": lambda v, k: reader.number(v, k, 1),
    }
    return _dataclass_from(reader, NotificationSettings, raw, "notifications", converters)


_WAREHOUSE_KEYS = {"path", "catalog", "data_path", "local_dir"}
_LOCAL_DEFAULT = ".newsmon-local"  # this machine's derived files, next to the config (PostgreSQL catalog)
_LITERAL_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*(?!\$\{)", re.IGNORECASE)


def _warehouse(reader: _Reader, raw: Any) -> WarehouseSettings:
    """`warehouse: PATH` (a folder: SQLite catalog + data files) or a mapping: `path`, or `catalog` (a
    PostgreSQL connection string) + `data_path` (shared by every machine) + optional `local_dir`."""
    if raw is None:
        raise reader.fail("warehouse", "missing: the warehouse folder to write, e.g. data/newsmon")
    if isinstance(raw, str):
        return WarehouseSettings.embedded(reader.local_path(raw, "warehouse"))
    section = reader.mapping(raw, "warehouse", _WAREHOUSE_KEYS)
    if "path" in section:
        extra = sorted(set(section) - {"path"})
        if extra:
            raise reader.fail(f"warehouse.{extra[0]}", "goes with warehouse.catalog, not with warehouse.path")
        return WarehouseSettings.embedded(reader.local_path(section["path"], "warehouse.path"))
    if "catalog" not in section:
        raise reader.fail("warehouse", "give either path (a local folder) or catalog + data_path (PostgreSQL)")
    dsn = _postgres_dsn(reader, section["catalog"])
    if "data_path" not in section:
        raise reader.fail("warehouse.data_path", "missing: the data folder every writer and reader can reach")
    data = reader.text(section["data_path"], "warehouse.data_path")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", data):
        raise reader.fail(
            "warehouse.data_path",
            f"{data!r}: object storage needs DuckDB's httpfs extension, which no package ships for this DuckDB "
            "version (nothing is downloaded at run time); use a shared filesystem path (NFS, SMB, a mount)",
        )
    local = section.get("local_dir", _LOCAL_DEFAULT)
    return WarehouseSettings.postgres(
        dsn, str(reader.local_path(data, "warehouse.data_path")), reader.local_path(local, "warehouse.local_dir")
    )


def _postgres_dsn(reader: _Reader, value: Any) -> str:
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
    return _expand_env(dsn.strip(), "warehouse.catalog", reader)


def _maintenance(reader: _Reader, raw: Any) -> MaintenanceSettings:
    converters: dict[str, Callable[[Any, str], Any]] = {"keep_snapshots_days": lambda v, k: reader.number(v, k, 0)}
    return _dataclass_from(reader, MaintenanceSettings, raw, "maintenance", converters)


_TOP_LEVEL = {
    "warehouse",
    "maintenance",
    "seeds",
    "taxonomy",
    "network",
    "polling",
    "pipeline",
    "feeds",
    "alerts",
    "notifications",
}


def parse_config(text: str, path: Path) -> Config:
    reader = _Reader(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        raise ConfigError(f"{path}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    top = reader.mapping(raw, "", _TOP_LEVEL)
    return Config(
        path=path,
        warehouse=_warehouse(reader, top.get("warehouse")),
        seeds=reader.local_path(top["seeds"], "seeds") if "seeds" in top else bundled_seeds_dir(),
        taxonomy=reader.local_path(top["taxonomy"], "taxonomy") if "taxonomy" in top else None,
        network=_network(reader, top.get("network")),
        polling=_polling(reader, top.get("polling")),
        pipeline=_pipeline(reader, top.get("pipeline")),
        feeds=_feeds(reader, top.get("feeds")),
        alerts=_alerts(reader, top.get("alerts")),
        notifications=_notifications(reader, top.get("notifications")),
        maintenance=_maintenance(reader, top.get("maintenance")),
    )


def _read(path: Path, what: str, config_path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: {what}: file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: {what}: cannot read {path}: {exc}") from None


def _taxonomy_sources(config: Config) -> tuple[tuple[str, str], ...]:
    bundled = bundled_taxonomy_file()
    sources = [(str(bundled), bundled.read_text(encoding="utf-8"))]
    if config.taxonomy is not None:
        sources.append((str(config.taxonomy), _read(config.taxonomy, "taxonomy", config.path)))
    return tuple(sources)


def _check_alerts(config: Config, taxonomy: Taxonomy) -> None:
    reader = _Reader(config.path)
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
    config = parse_config(_read(path, "(file)", path), path.resolve())
    if not config.seeds.is_dir():
        raise ConfigError(f"{path}: seeds: folder {config.seeds} does not exist")
    sources = _taxonomy_sources(config)
    try:
        taxonomy = classifier_for(sources).taxonomy
    except TaxonomyError as exc:
        raise ConfigError(f"{path}: taxonomy: {exc}") from None
    _check_alerts(config, taxonomy)
    return replace(config, taxonomy_sources=sources)
