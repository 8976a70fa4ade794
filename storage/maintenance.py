"""Lake upkeep: every batch a pass commits adds small Parquet files and a snapshot; this bounds both.

1. flush data that DuckLake inlined into the catalog (small commits: feed states, runs) into Parquet;
2. merge adjacent small data files of each table into larger ones;
3. expire snapshots older than the retention (time travel reaches back that far, no further);
4. delete the files no retained snapshot uses any more.

Runs under the writers' lock (a commit and a merge never race); readers keep working throughout, and a
file is deleted only once every snapshot that used it has expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb

from storage.lake import LAKE


@dataclass(frozen=True)
class MaintenanceReport:
    files_before: int
    files_after: int
    snapshots_before: int
    snapshots_after: int
    files_merged: int
    files_deleted: int


def data_file_count(data_path: str) -> int:
    """Parquet files under the lake's data path (data and delete files, live or awaiting cleanup)."""
    return sum(1 for _ in Path(data_path).rglob("*.parquet"))


def snapshot_count(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT count(*) FROM {LAKE}.snapshots()").fetchone()
    return int(row[0]) if row else 0


def maintain(con: duckdb.DuckDBPyConnection, data_path: str, retention: timedelta) -> MaintenanceReport:
    """Flush, merge, expire and clean up (see the module doc). `con` has the lake attached read-write and
    the caller holds the writers' lock."""
    files_before, snapshots_before = data_file_count(data_path), snapshot_count(con)
    con.execute(f"CALL ducklake_flush_inlined_data('{LAKE}')")
    merged = con.execute(f"CALL ducklake_merge_adjacent_files('{LAKE}')").fetchall()
    seconds = max(0, int(retention.total_seconds()))
    con.execute(f"CALL ducklake_expire_snapshots('{LAKE}', older_than => now() - INTERVAL {seconds} SECOND)").fetchall()
    deleted = con.execute(f"CALL ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)").fetchall()
    return MaintenanceReport(
        files_before=files_before,
        files_after=data_file_count(data_path),
        snapshots_before=snapshots_before,
        snapshots_after=snapshot_count(con),
        files_merged=sum(int(row[2]) for row in merged) if merged and len(merged[0]) > 2 else len(merged),
        files_deleted=len(deleted),
    )
