"""How a DuckDB connection attaches the warehouse: a DuckLake (a SQL catalog + Parquet files).

The DuckLake, SQLite and PostgreSQL extensions come from PyPI packages (`duckdb-extension-*`, pinned to the
engine's version): nothing is downloaded at run time. DuckDB finds an extension by file name in an
`extension_directory` laid out as `v<version>/<platform>/<name>.duckdb_extension`, and the packages name
the files differently (`sqlite.duckdb_extension` holds `sqlite_scanner`), so a small directory of symbolic
links to the package files is made once per user and engine version (in ~/.cache/newsmon).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sqlite3
import tempfile
from pathlib import Path

import duckdb

from core.errors import WarehouseMissing, WarehouseNeedsMigration, WarehouseUnavailable
from core.settings import WarehouseSettings
from storage.damage import check_catalog, corrupt, is_corruption, require_folder

LAKE = "lake"  # the name the warehouse is attached under in every connection we open

# package suffix -> the extension's own name (its file name must be this for DuckDB to load it)
_EXTENSIONS = {"ducklake": "ducklake", "sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}


def lake_exists(settings: WarehouseSettings) -> bool:
    """Whether a lake was created there (for PostgreSQL: assumed; attaching tells)."""
    return settings.kind == "postgres" or Path(settings.catalog).is_file()


def attach_sql(
    settings: WarehouseSettings, name: str = LAKE, read_only: bool = False, snapshot: int | None = None
) -> str:
    options = [f"DATA_PATH {sql_string(settings.data_path)}"]
    if settings.kind == "sqlite":
        # The embedded lake's data folder is always next to its catalog: the folder may be moved or renamed
        # (its files are stored relative to the data path).
        options.append("OVERRIDE_DATA_PATH true")
    if read_only:
        options.append("READ_ONLY")
    if snapshot is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    return f"ATTACH {sql_string(settings.uri)} AS {name} ({', '.join(options)})"


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def extension_directory() -> Path:
    """A directory DuckDB can load our packaged extensions from (made once; links to the package files)."""
    version = duckdb.__version__
    sources = {name: _package_file(package, version) for package, name in _EXTENSIONS.items()}
    digest = hashlib.sha256("\n".join(str(p) for p in sources.values()).encode()).hexdigest()[:12]
    root = _cache_root() / f"duckdb-extensions-{digest}"
    folder = root / f"v{version}" / _platform()
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in sources.items():
        link = folder / f"{name}.duckdb_extension"
        if link.resolve() != source:
            temporary = folder / f".{name}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            temporary.symlink_to(source)
            temporary.replace(link)  # atomic: a concurrent process never sees a half-made link
    return root


def _cache_root() -> Path:
    """The user's own cache folder (not a shared /tmp another user could prepare), else a private temp one."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsmon"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path(tempfile.gettempdir()) / f"newsmon-{os.getuid()}"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
    return base


def _package_file(package: str, version: str) -> Path:
    spec = importlib.util.find_spec(f"duckdb_extension_{package}")
    if spec is None or spec.origin is None:
        raise WarehouseUnavailable(
            f"the Python package duckdb-extension-{package}=={version} is not installed: "
            "reinstall newsmon (pip install -c constraints.txt -e .)"
        )
    path = Path(spec.origin).parent / "extensions" / f"v{version}" / f"{package}.duckdb_extension"
    if not path.is_file():
        raise WarehouseUnavailable(
            f"{path} is missing: duckdb-extension-{package} must have the engine's version {version}"
        )
    return path.resolve()


_PLATFORM: list[str] = []


def _platform() -> str:
    if not _PLATFORM:
        row = duckdb.connect().execute("PRAGMA platform").fetchone()
        _PLATFORM.append(str(row[0]) if row else "linux_amd64")
    return _PLATFORM[0]


def _write_ahead_log(catalog: Path) -> None:
    """Put the SQLite catalog in WAL mode (a setting kept in the file) before DuckLake first uses it.

    In SQLite's default rollback-journal mode, a reader with an open read transaction (an analyst's
    DuckDB connection holding a result it has not fully fetched) blocks every writer's commit; with a
    write-ahead log, readers never block the writer and the writer never blocks readers."""
    con = sqlite3.connect(str(catalog), timeout=5)
    try:
        row = con.execute("PRAGMA journal_mode").fetchone()
        if not row or str(row[0]).lower() != "wal":
            con.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass  # another process has it open right now: it is switched the next time
    finally:
        con.close()


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that loads extensions only from our packages, never from the network."""
    return duckdb.connect(
        config={
            "extension_directory": str(extension_directory()),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": True,
        }
    )


def attach(
    settings: WarehouseSettings, read_only: bool = False, snapshot: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection with the lake attached as `lake` and made the default database (unqualified names work)."""
    old_file = Path(settings.catalog).parent if settings.kind == "sqlite" else None
    if old_file is not None and old_file.is_file():
        raise WarehouseNeedsMigration(
            f"{old_file} is a single-file DuckDB warehouse from an earlier newsmon: "
            "convert it once with `newsmon migrate --config FILE` (see docs/warehouse.md)"
        )
    if read_only and not lake_exists(settings):
        raise WarehouseMissing(f"warehouse {settings.describe()} does not exist yet: run `newsmon run` first")
    check_catalog(settings)
    if not read_only:
        require_folder(settings)
        settings.local_dir.mkdir(parents=True, exist_ok=True)  # this machine's derived files
    if not read_only and settings.kind == "sqlite":
        Path(settings.catalog).parent.mkdir(parents=True, exist_ok=True)
        Path(settings.data_path).mkdir(parents=True, exist_ok=True)
        try:
            _write_ahead_log(Path(settings.catalog))
        except sqlite3.DatabaseError as exc:  # not a database, or malformed pages
            raise corrupt(settings, exc) from exc
    con = connect()
    try:
        con.execute(attach_sql(settings, LAKE, read_only, snapshot))
        con.execute(f"USE {LAKE}")
    except duckdb.Error as exc:
        con.close()
        if is_corruption(exc):
            raise corrupt(settings, exc) from exc
        raise WarehouseUnavailable(f"cannot open the warehouse at {settings.describe()}: {exc}") from exc
    return con
