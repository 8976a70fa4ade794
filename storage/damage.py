"""A damaged or foreign warehouse, and a warehouse under a missing folder, named as such with what to do.

The embedded lake is a folder: `catalog.sqlite` (the DuckLake catalog, an SQLite file) and `data/` (Parquet
files). A catalog that is not an SQLite file is refused before DuckDB sees it; SQLite's and the Parquet
reader's words for a truncated or overwritten file become a `WarehouseCorrupt` that says to restore it.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import WarehouseCorrupt, WarehouseMissing
from core.settings import WarehouseSettings

_CORRUPTION_SIGNS = (
    "file is not a database",
    "database disk image is malformed",
    "not a valid duckdb database file",
    "could not read enough bytes",
    "no magic bytes found",
    "corrupt",
    "checksum",
    "invalid block",
    "failed to load metadata",
)

_SQLITE_MAGIC = b"SQLite format 3\0"


def is_corruption(exc: BaseException) -> bool:
    """The engines' words for a file that is truncated, overwritten or no database at all."""
    message = str(exc).lower()
    return any(sign in message for sign in _CORRUPTION_SIGNS)


def corrupt(settings: WarehouseSettings, exc: BaseException) -> WarehouseCorrupt:
    text = str(exc).strip()
    first_line = text.splitlines()[0][:200] if text else type(exc).__name__
    if settings.kind != "sqlite":
        return WarehouseCorrupt(
            f"warehouse {settings.describe()} (data {settings.data_path}) is damaged ({first_line}): "
            "restore the catalog database and the data folder from a backup"
        )
    folder = Path(settings.catalog).parent
    return WarehouseCorrupt(
        f"warehouse {folder} is a damaged or foreign file, not a usable DuckLake ({first_line}): restore it "
        f"from a backup, or move it aside (mv {folder} {folder}.damaged) and the next `newsmon run` starts a new one"
    )


def check_catalog(settings: WarehouseSettings) -> None:
    """Refuse an embedded catalog that is not an SQLite file before DuckDB sees it."""
    if settings.kind != "sqlite":
        return
    try:
        with Path(settings.catalog).open("rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except (FileNotFoundError, IsADirectoryError):
        return
    if head and head != _SQLITE_MAGIC:
        raise corrupt(settings, ValueError(f"{settings.catalog} has no SQLite header"))


def require_folder(settings: WarehouseSettings) -> None:
    """The lake folder's parent must exist: a typo in `warehouse:` must not silently create a new tree."""
    if settings.kind != "sqlite":
        return
    lake = Path(settings.catalog).parent
    folder = lake.parent
    if not folder.is_dir():
        raise WarehouseMissing(
            f"the folder of warehouse {lake} does not exist: {folder} (create it with mkdir -p {folder}, "
            "or fix `warehouse:` in the config)"
        )
