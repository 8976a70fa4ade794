"""Times for people: in the user's time zone, with the zone named (config `timezone`, else TZ, else the
machine's zone). Machine output (JSON) stays in UTC."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class DisplayZone:
    """The zone times are shown in; `name` is an IANA name (Asia/Tokyo) or UTC; `origin` says where it came
    from (config `timezone`, TZ, this machine)."""

    name: str
    zone: tzinfo
    origin: str = "default"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.origin})"

    def show(self, value: datetime | None, seconds: bool = False) -> str:
        """`2026-11-30 16:33 JST`; `-` for no time."""
        if value is None:
            return "-"
        local = value.astimezone(self.zone)
        return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")

    def day(self, value: datetime) -> str:
        return value.astimezone(self.zone).strftime("%Y-%m-%d")


def _system_zone_name() -> str:
    """The machine's IANA zone name from /etc/localtime, or UTC when it cannot be told."""
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else "UTC"


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def display_zone(configured: str | None, environ: Mapping[str, str] | None = None) -> DisplayZone:
    """The configured zone (validated when the config is loaded), else TZ when it names a zone, else the
    machine's zone, else UTC."""
    env = os.environ if environ is None else environ
    candidates = (
        (configured, "config timezone"),
        (env.get("TZ", "").lstrip(":"), "TZ"),
        (_system_zone_name(), "this machine's zone"),
    )
    for name, origin in candidates:
        zone = _zone(name) if name else None
        if name and zone is not None:
            return DisplayZone("UTC" if name in ("UTC", "Etc/UTC") else name, zone, origin)
    return DisplayZone("UTC", UTC)


def utc_iso(value: datetime | None) -> str | None:
    """`2026-11-30T07:33:03Z` (machine output)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
