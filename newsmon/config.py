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
from typing import Any

import apprise

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
from core.validate import Converter, TreeReader, load_yaml, read_section
from extractors.classify import classifier_for
from extractors.language import normalize_language_tag
from extractors.taxonomy import Taxonomy
from extractors.urls import canonical_url
from newsmon.resources import bundled_seeds_dir, bundled_taxonomy_file

_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DASK_ADDRESS = re.compile(r"(tcp|tls)://[^\s/:]+(:\d{1,5})?|(tcp|tls)://\[[0-9a-fA-F:.]+\](:\d{1,5})?")
# Config fields that are not keys of the file.
_DERIVED = frozenset({"path", "taxonomy_sources"})


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


def _feeds(reader: TreeReader, raw: Any) -> tuple[FeedConfig, ...]:
    if raw is None:
        raise reader.fail("feeds", "missing: list at least one feed (- url: https://…)")
    items = reader.typed(raw, "feeds", list, "a list of feeds")
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        key = f"feeds[{index}]"
        entry = reader.mapping({"url": item} if isinstance(item, str) else item, key, {"url", "name"})
        if "url" not in entry:
            raise reader.fail(f"{key}.url", "missing")
        url = reader.text(entry["url"], f"{key}.url")
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
    }
    rule = read_section(reader, AlertRule, entry, key, special)
    if not rule.notify:
        raise reader.fail(f"{key}.notify", "a rule needs at least one Apprise URL to notify")
    return rule


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
        feeds=_feeds(reader, top.get("feeds")),
        alerts=_alerts(reader, top.get("alerts")),
        notifications=read_section(reader, NotificationSettings, top.get("notifications"), "notifications"),
        maintenance=read_section(reader, MaintenanceSettings, top.get("maintenance"), "maintenance"),
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
