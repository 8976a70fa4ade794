"""Where the warehouse lives and how a DuckDB connection attaches it: a DuckLake (a SQL catalog + Parquet files).

The DuckLake, SQLite and PostgreSQL extensions come from PyPI packages (`duckdb-extension-*`, pinned to the
engine's version): nothing is downloaded at run time. DuckDB finds an extension by file name in an
`extension_directory` laid out as `v<version>/<platform>/<name>.duckdb_extension`, and the packages name
the files differently (`sqlite.duckdb_extension` holds `sqlite_scanner`), so a small directory of symbolic
links to the package files is made once per user and engine version.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

LAKE = "lake"  # the name the warehouse is attached under in every connection we open
CATALOG_FILE = "catalog.sqlite"
DATA_FOLDER = "data"
INDEX_FILE = "lsh.sqlite"
LOCK_FILE = "writer.lock"

# package suffix -> the extension's own name (its file name must be this for DuckDB to load it)
_EXTENSIONS = {"ducklake": "ducklake", "sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}

CatalogKind = Literal["sqlite", "postgres"]


class LakeError(Exception):
    """The lake cannot be attached (extension package missing, catalog unreachable, an old warehouse file)."""


@dataclass(frozen=True)
class LakeLocation:
    """A DuckLake: its catalog (a SQLite file, or a PostgreSQL libpq connection string) and data path, plus
    this machine's folder for derived files (the near-duplicate index) and, for SQLite, the writers' lock.

    The embedded layout (`warehouse: data/newsmon`) is one folder:
        data/newsmon/catalog.sqlite   the DuckLake catalog
        data/newsmon/data/            Parquet data files (main/<table>/ducklake-*.parquet)
        data/newsmon/lsh.sqlite       near-duplicate index (derived from the lake, rebuilt when missing)
        data/newsmon/writer.lock      writers take it for each commit (uniqueness of canonical URLs)
    """

    kind: CatalogKind
    catalog: str  # SQLite: the file path; PostgreSQL: the libpq connection string (no password: env/.pgpass)
    data_path: str
    local_dir: Path

    @classmethod
    def embedded(cls, folder: Path) -> LakeLocation:
        folder = folder.absolute()
        return cls("sqlite", str(folder / CATALOG_FILE), str(folder / DATA_FOLDER) + os.sep, folder)

    @classmethod
    def postgres(cls, dsn: str, data_path: str, local_dir: Path) -> LakeLocation:
        data = data_path if data_path.endswith(("/", os.sep)) else data_path + "/"
        return cls("postgres", dsn, data, local_dir.absolute())

    @property
    def uri(self) -> str:
        """What follows ATTACH: 'ducklake:sqlite:/…/catalog.sqlite' or 'ducklake:postgres:dbname=…'."""
        return f"ducklake:{self.kind}:{self.catalog}"

    @property
    def index_path(self) -> Path:
        return self.local_dir / INDEX_FILE

    @property
    def lock_path(self) -> Path:
        return self.local_dir / LOCK_FILE

    def exists(self) -> bool:
        """Whether a lake was created here (for PostgreSQL: assumed; attaching tells)."""
        return self.kind == "postgres" or Path(self.catalog).is_file()

    def describe(self) -> str:
        return self.catalog if self.kind == "sqlite" else f"PostgreSQL catalog '{self.catalog}'"

    def attach_sql(self, name: str = LAKE, read_only: bool = False, snapshot: int | None = None) -> str:
        options = [f"DATA_PATH {sql_string(self.data_path)}"]
        if read_only:
            options.append("READ_ONLY")
        if snapshot is not None:
            options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
        return f"ATTACH {sql_string(self.uri)} AS {name} ({', '.join(options)})"


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def extension_directory() -> Path:
    """A directory DuckDB can load our packaged extensions from (made once; links to the package files)."""
    version = duckdb.__version__
    sources = {name: _package_file(package, version) for package, name in _EXTENSIONS.items()}
    digest = hashlib.sha256("\n".join(str(p) for p in sources.values()).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"newsmon-duckdb-extensions-{os.getuid()}-{digest}"
    platform = _platform()
    folder = root / f"v{version}" / platform
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


def _package_file(package: str, version: str) -> Path:
    spec = importlib.util.find_spec(f"duckdb_extension_{package}")
    if spec is None or spec.origin is None:
        raise LakeError(
            f"the Python package duckdb-extension-{package}=={version} is not installed: "
            "reinstall newsmon (pip install -c constraints.txt -e .)"
        )
    path = Path(spec.origin).parent / "extensions" / f"v{version}" / f"{package}.duckdb_extension"
    if not path.is_file():
        raise LakeError(f"{path} is missing: duckdb-extension-{package} must have the engine's version {version}")
    return path.resolve()


_PLATFORM: list[str] = []


def _platform() -> str:
    if not _PLATFORM:
        row = duckdb.connect().execute("PRAGMA platform").fetchone()
        _PLATFORM.append(str(row[0]) if row else "linux_amd64")
    return _PLATFORM[0]


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that loads extensions only from our packages, never from the network."""
    return duckdb.connect(
        config={
            "extension_directory": str(extension_directory()),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": True,
        }
    )


def attach(location: LakeLocation, read_only: bool = False, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with the lake attached as `lake` and made the default database (unqualified names work)."""
    old_file = Path(location.catalog).parent if location.kind == "sqlite" else None
    if old_file is not None and old_file.is_file():
        raise LakeError(
            f"{old_file} is a single-file DuckDB warehouse from an earlier newsmon: "
            "convert it once with `newsmon migrate --config FILE` (see docs/warehouse.md)"
        )
    if read_only and not location.exists():
        raise LakeError(f"no warehouse at {location.describe()} yet: run `newsmon run` first")
    if not read_only and location.kind == "sqlite":
        Path(location.catalog).parent.mkdir(parents=True, exist_ok=True)
        Path(location.data_path).mkdir(parents=True, exist_ok=True)
    con = connect()
    try:
        con.execute(location.attach_sql(LAKE, read_only, snapshot))
        con.execute(f"USE {LAKE}")
    except duckdb.Error as exc:
        con.close()
        raise LakeError(f"cannot open the warehouse at {location.describe()}: {exc}") from exc
    return con
