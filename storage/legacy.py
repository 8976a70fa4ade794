"""Move a single-file DuckDB warehouse of an earlier release into a new lake, verifying every table's rows.

The earlier release wrote its file with DuckDB 2.0, which this DuckDB (1.5, the version the DuckLake
extension packages exist for) cannot open. So the old file is exported first, with the earlier release's
own Python (storage/legacy_export.py: Parquet per table + manifest.json with row counts); then the export
is loaded here into a new, empty lake at schema version 5 (the tables and columns the earlier release
had), the later migrations are applied, and the row count of every table is compared with the manifest.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from core.errors import PermanentError
from core.settings import WarehouseSettings
from storage import legacy_export
from storage.connection import Connection, current_version, migrate
from storage.lake import attach, sql_string

LEGACY_SCHEMA_VERSION = 5  # the schema of the last single-file release; lake versions 1-5 match it
EXPORTER = Path(legacy_export.__file__)


class MigrationError(PermanentError):
    """The old warehouse could not be exported or loaded, or a table's rows did not match: nothing replaced."""


@dataclass(frozen=True)
class TableCheck:
    table: str
    exported: int
    loaded: int

    @property
    def ok(self) -> bool:
        return self.exported == self.loaded


def export_with(python: Path, database: Path, folder: Path) -> dict[str, object]:
    """Run the exporter with `python` (an interpreter whose duckdb can read `database`)."""
    # the interpreter is the one the operator named on the command line (--legacy-python)
    result = subprocess.run(  # noqa: S603
        [str(python), str(EXPORTER), str(database), str(folder)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise MigrationError(
            f"exporting {database} with {python} failed: {detail[-1] if detail else 'no output'} "
            "(it must be the Python of the newsmon release that wrote the file, with its duckdb)"
        )
    return read_manifest(folder)


def read_manifest(folder: Path) -> dict[str, object]:
    try:
        manifest: dict[str, object] = json.loads((folder / legacy_export.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MigrationError(f"{folder} holds no readable {legacy_export.MANIFEST}: {exc}") from exc
    version = manifest.get("schema_version")
    if version != LEGACY_SCHEMA_VERSION:
        raise MigrationError(
            f"the old warehouse is at schema version {version}, not {LEGACY_SCHEMA_VERSION}: open it once with "
            "the release that wrote it (e.g. `newsmon status`) so it is brought up to date, then export again"
        )
    return manifest


def load_export(settings: WarehouseSettings, folder: Path, manifest: dict[str, object]) -> list[TableCheck]:
    """Load every exported table into the (new, empty) lake in one transaction, migrate on, and count."""
    counts = manifest.get("tables")
    if not isinstance(counts, dict):
        raise MigrationError(f"{folder}/{legacy_export.MANIFEST} lists no tables")
    con = attach(settings)
    try:
        if current_version(con) != 0:
            raise MigrationError(f"the lake at {settings.describe()} is not empty: migrate into a new one")
        migrate(con, up_to=LEGACY_SCHEMA_VERSION)
        _load_tables(con, folder, [str(t) for t in counts if t != "schema_migrations"])
        migrate(con)
        return [TableCheck(str(t), int(n), _count(con, str(t))) for t, n in counts.items() if t != "schema_migrations"]
    finally:
        con.close()


def _load_tables(con: Connection, folder: Path, tables: list[str]) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        for table in tables:
            source = sql_string(str(folder / f"{table}.parquet"))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet({source})")
        con.execute("COMMIT")
    except Exception as exc:
        con.execute("ROLLBACK")
        raise MigrationError(f"loading the exported tables failed, nothing was stored: {exc}") from exc


def _count(con: Connection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
