"""One validator for the YAML documents newsmon reads (the config and taxonomies).

`TreeReader` walks a parsed YAML tree and turns every problem into one line naming the document, the key
and the problem ('<source>: <key>: <problem>'), raised as the caller's error class (ConfigError,
TaxonomyError). `read_section` builds a settings dataclass from a mapping, converting each value by its
field's type and the bounds in the field's metadata (core.settings), so no field is listed twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import fields
from typing import Any, TypeVar

import yaml

from core.errors import PermanentError

T = TypeVar("T")
Converter = Callable[[Any, str], Any]


def load_yaml(text: str, source: str, error: type[PermanentError]) -> Any:
    """The parsed document, or `error` naming the line that is not valid YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        raise error(f"{source}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None


class TreeReader:
    """Typed access to a parsed YAML tree; every problem is `error('<source>: <key>: <problem>')`."""

    def __init__(self, source: str, error: type[PermanentError]) -> None:
        self.source = source
        self.error = error

    def fail(self, key: str, problem: str) -> PermanentError:
        return self.error(f"{self.source}: {key}: {problem}")

    def mapping(
        self, value: Any, key: str, allowed: Collection[str] | None = None, noun: str = "key"
    ) -> Mapping[str, Any]:
        """A mapping (None reads as empty); with `allowed`, any other key is an 'unknown <noun>' error."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key or "(top level)", f"expected a mapping, got {type(value).__name__} {value!r:.60}")
        if allowed is not None:
            for name in value:
                if name not in allowed:
                    where = f"{key}.{name}" if key else str(name)
                    raise self.fail(where, f"unknown {noun} (expected one of: {', '.join(sorted(allowed))})")
        return value

    def typed(self, value: Any, key: str, kind: type[T] | tuple[type, ...], what: str) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(key, f"expected {what}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {what}, got {value!r:.80}")
        return value

    def flag(self, value: Any, key: str) -> bool:
        return bool(self.typed(value, key, bool, "true or false"))

    def number(self, value: Any, key: str, minimum: float = 0.0) -> float:
        number = float(self.typed(value, key, (int, float), "a number"))
        if number < minimum:
            raise self.fail(key, f"must be at least {minimum:g}, got {value!r}")
        return number

    def positive(self, value: Any, key: str, name: str | None = None) -> float:
        """A number above zero; `name` phrases the problem as '<name> must be a positive number'."""
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            problem = f"{name} must be a positive number" if name else "expected a positive number"
            raise self.fail(key, f"{problem}, got {value!r:.80}")
        return float(value)

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
        """A list of non-empty strings (numbers are read as their text: YAML `- 1688` is an alias too)."""
        if value is None:
            return ()
        items = self.typed(value, key, list, "a list")
        return tuple(
            self.text(str(item) if isinstance(item, int) else item, f"{key}[{i}]") for i, item in enumerate(items)
        )

    def regex(self, value: Any, key: str) -> re.Pattern[str] | None:
        if value is None:
            return None
        try:
            return re.compile(str(value), re.IGNORECASE)
        except re.error as exc:
            raise self.fail(key, f"bad regular expression: {exc}") from None


def read_section(
    reader: TreeReader, cls: type[T], raw: Any, key: str, special: Mapping[str, Converter] | None = None
) -> T:
    """`cls` (a settings dataclass) from the mapping `raw` at `key`: unknown keys are errors, absent ones
    keep their defaults; each value is converted by its field's type and `minimum` metadata, or by
    `special[name]` for fields that need more than that."""
    special = special or {}
    converters: dict[str, Converter] = {}
    for spec in fields(cls):  # type: ignore[arg-type]
        converters[spec.name] = special.get(spec.name) or _by_type(reader, spec.type, spec.metadata)
    section = reader.mapping(raw, key, set(converters))
    return cls(**{name: converters[name](value, f"{key}.{name}") for name, value in section.items()})


def _by_type(reader: TreeReader, kind: Any, metadata: Mapping[str, Any]) -> Converter:
    minimum = metadata.get("minimum", 0)
    by_name: dict[str, Converter] = {
        "float": lambda v, k: reader.number(v, k, minimum),
        "int": lambda v, k: reader.integer(v, k, int(minimum)),
        "bool": reader.flag,
        "str": reader.text,
        "tuple[str, ...]": reader.string_list,
    }
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if name not in by_name:
        raise TypeError(f"no converter for a settings field of type {name}: pass one in `special`")
    return by_name[name]
