"""Export a single-file DuckDB warehouse of an earlier newsmon (DuckDB 2.0 file format) to Parquet.

Stand-alone on purpose: `newsmon migrate` runs this file with the Python of the earlier newsmon
installation (the one whose DuckDB wrote the file; this newsmon's DuckDB 1.5 cannot read it), e.g.

    /srv/newsmon-old/.venv/bin/python storage/legacy_export.py data/newsmon.duckdb export/

It needs only the standard library and `duckdb`, opens the file read-only, writes one Parquet file per
table and `manifest.json` (row count per table, schema version), and changes nothing in the warehouse.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MANIFEST = "manifest.json"


def export(database: Path, folder: Path) -> dict[str, object]:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [
            str(row[0])
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        counts: dict[str, int] = {}
        for table in tables:
            target = str(folder / f"{table}.parquet").replace("'", "''")
            con.execute(f"COPY (SELECT * FROM \"{table}\") TO '{target}' (FORMAT parquet)")
            row = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            counts[table] = int(row[0]) if row else 0
        version_row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    finally:
        con.close()
    manifest: dict[str, object] = {
        "source": str(database.resolve()),
        "duckdb_version": duckdb.__version__,
        "schema_version": int(version_row[0]) if version_row and version_row[0] is not None else 0,
        "tables": counts,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python legacy_export.py WAREHOUSE.duckdb OUT_FOLDER")
    result = export(Path(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(result))
