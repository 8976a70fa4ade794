"""`newsmon migrate`: turn the single-file warehouse of an earlier release into a lake, nothing lost.

1. export the old file with the earlier release's Python (its DuckDB 2.0 wrote it; ours cannot read it),
   or take an export made before (`--exported DIR`, written by storage/legacy_export.py);
2. move the old file aside (`<name>.pre-ducklake`), build the lake where the config's `warehouse:`
   points (so the config keeps working unchanged) and compare every table's row count with the export;
3. if anything fails or a count differs, the new lake is removed and the old file put back.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.errors import ConfigError
from core.settings import Config, WarehouseSettings
from storage.legacy import MigrationError, TableCheck, export_with, load_export, read_manifest

BACKUP_SUFFIX = ".pre-ducklake"


def migrate_warehouse(
    config: Config,
    old_file: Path | None,
    legacy_python: Path | None,
    exported: Path | None,
    say: Callable[[str], None],
) -> list[TableCheck]:
    target = config.warehouse
    old = old_file or _old_file_of(config)
    if exported is None and legacy_python is None:
        raise ConfigError(
            "give --legacy-python (the Python of the release that wrote the file, e.g. /srv/newsmon-old/.venv/bin/"
            "python) or --exported DIR (an export made with storage/legacy_export.py)"
        )
    with tempfile.TemporaryDirectory(prefix="newsmon-migrate-") as scratch:
        if exported is None:
            assert legacy_python is not None
            if not old.is_file():
                raise MigrationError(f"{old} is not a warehouse file")
            say(f"exporting {old} with {legacy_python} …")
            exported = Path(scratch) / "export"
            manifest = export_with(legacy_python, old, exported)
        else:
            manifest = read_manifest(exported)
        return _load_in_place(target, old, exported, manifest, say)


def _old_file_of(config: Config) -> Path:
    if config.warehouse.kind != "sqlite":
        raise ConfigError(f"{config.path}: warehouse: with a PostgreSQL catalog, name the old file with --from")
    return config.warehouse.local_dir


def _load_in_place(
    target: WarehouseSettings, old: Path, exported: Path, manifest: dict[str, object], say: Callable[[str], None]
) -> list[TableCheck]:
    """Build the lake where the config points (the lake's catalog records its data path, so it is built
    in place, not moved there). The old file steps aside first and comes back if anything fails."""
    backup: Path | None = None
    if target.kind == "sqlite" and target.local_dir.exists():
        if target.local_dir != old:
            raise MigrationError(f"{target.local_dir} exists already: point `warehouse:` at a new folder")
        backup = old.with_name(old.name + BACKUP_SUFFIX)
        if backup.exists():
            raise MigrationError(f"{backup} exists already (an earlier migration?): move it away first")
        old.rename(backup)
    say(f"loading into {target.describe()} …")
    try:
        checks = load_export(target, exported, manifest)
        bad = [c for c in checks if not c.ok]
        if bad:
            raise MigrationError(
                "row counts differ, the old warehouse is left as it was: "
                + ", ".join(f"{c.table} {c.exported} exported / {c.loaded} loaded" for c in bad)
            )
    except BaseException:
        if target.kind == "sqlite":
            shutil.rmtree(target.local_dir, ignore_errors=True)
        if backup is not None:
            backup.rename(old)
        raise
    if backup is not None:
        say(f"the old file is kept as {backup}")
    say(f"the lake is at {target.describe()}; the config needs no change")
    return checks
