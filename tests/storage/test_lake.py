"""The lake and its writers' coordination, with real processes: readers never block writers, writers that
check-then-insert under the lock store each key once (SQLite catalog + file lock; PostgreSQL catalog +
advisory lock), a killed pass is told from a running one."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from core.errors import WarehouseNeedsMigration
from core.settings import WarehouseSettings as LakeLocation
from storage.coordination import FileCoordinator
from storage.lake import attach
from tests.postgres import PostgresServer, postgres_server  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[2]

# A writer process: for each batch, under the lock, insert the keys not stored yet (the pass's pattern).
WRITER = textwrap.dedent(
    """
    import sys, json
    from pathlib import Path
    from storage.coordination import coordinator_for
    from core.settings import WarehouseSettings as LakeLocation
    from storage.lake import attach
    spec = json.loads(sys.argv[1])
    location = (LakeLocation.embedded(Path(spec["folder"])) if spec["kind"] == "sqlite"
                else LakeLocation.postgres(spec["dsn"], spec["data"], Path(spec["folder"])))
    coordinator = coordinator_for(location, 60, print)
    con = attach(location)
    print("ready", flush=True)
    while not Path(spec["go"]).exists():  # both writers start together
        pass
    for batch in spec["batches"]:
        with coordinator.hold('writer'):
            con.execute("BEGIN")
            stored = {r[0] for r in con.execute("SELECT k FROM t WHERE k IN (SELECT unnest(?))", [batch]).fetchall()}
            fresh = [k for k in batch if k not in stored]
            if fresh:
                con.execute("INSERT INTO t SELECT unnest(?), ?", [fresh, spec["name"]])
            con.execute("COMMIT")
    print("done", flush=True)
    """
)


def _create_table(location: LakeLocation) -> None:
    con = attach(location)
    con.execute("CREATE TABLE t (k VARCHAR NOT NULL, writer VARCHAR NOT NULL)")
    con.close()


def _spawn(spec: dict[str, object]) -> subprocess.Popen[str]:
    import json

    return subprocess.Popen(
        [sys.executable, "-c", WRITER, json.dumps(spec)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _overlapping_batches(offset: int) -> list[list[str]]:
    """20 batches of 25 keys; two writers with offsets 0 and 250 share keys 250-499 and both start with
    them, in the same order: without the lock they would check and insert the same keys at the same time."""
    own = [n for n in range(offset, offset + 500) if not 250 <= n < 500]
    keys = [f"k{n:04d}" for n in [*range(250, 500), *own]]
    return [keys[i : i + 25] for i in range(0, 500, 25)]


def _run_two_writers(specs: list[dict[str, object]], go: Path) -> None:
    writers = [_spawn({**spec, "go": str(go)}) for spec in specs]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    go.touch()
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        assert "done" in out


def test_two_local_writers_store_each_key_once(tmp_path: Path) -> None:
    location = LakeLocation.embedded(tmp_path / "lake")
    _create_table(location)
    base = {"kind": "sqlite", "folder": str(tmp_path / "lake")}
    _run_two_writers(
        [
            {**base, "name": "a", "batches": _overlapping_batches(0)},
            {**base, "name": "b", "batches": _overlapping_batches(250)},
        ],
        tmp_path / "go",
    )
    con = attach(location, read_only=True)
    total, distinct = con.execute("SELECT count(*), count(DISTINCT k) FROM t").fetchone() or (0, 0)
    writers = dict(con.execute("SELECT writer, count(*) FROM t GROUP BY ALL").fetchall())
    assert (total, distinct) == (750, 750)
    assert set(writers) <= {"a", "b"} and sum(writers.values()) == 750


def test_two_writers_sharing_a_postgres_catalog_store_each_key_once(
    tmp_path: Path,
    postgres_server: PostgresServer,  # noqa: F811
) -> None:
    dsn = postgres_server.new_database()
    data = str(tmp_path / "shared-data")
    location = LakeLocation.postgres(dsn, data, tmp_path / "machine-0")
    _create_table(location)
    specs: list[dict[str, object]] = [
        {"kind": "postgres", "dsn": dsn, "data": data, "folder": str(tmp_path / f"machine-{n}"), "name": name}
        for n, name in ((1, "a"), (2, "b"))
    ]
    specs[0]["batches"], specs[1]["batches"] = _overlapping_batches(0), _overlapping_batches(250)
    _run_two_writers(specs, tmp_path / "go")
    con = attach(location, read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT k) FROM t").fetchone() == (750, 750)


READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from core.settings import WarehouseSettings as LakeLocation
    from storage.lake import attach
    con = attach(LakeLocation.embedded(Path(sys.argv[1])), read_only=True)
    print("open", flush=True)
    seen = []
    while True:
        n = con.execute("SELECT count(*) FROM t").fetchone()[0]
        if not seen or seen[-1] != n:
            seen.append(n)
            print(n, flush=True)
        if n >= int(sys.argv[2]):
            break
        time.sleep(0.02)
    """
)


def _lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stdout lines as they come, so the test can wait for one with a deadline."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.strip())

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_reader_holding_its_connection_never_blocks_the_writer_and_sees_each_commit(tmp_path: Path) -> None:
    location = LakeLocation.embedded(tmp_path / "lake")
    _create_table(location)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(tmp_path / "lake"), "500"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    lines = _lines_of(reader)
    try:
        assert lines.get(timeout=60) == "open"
        assert lines.get(timeout=60) == "0"
        con = attach(location)
        coordinator = FileCoordinator(tmp_path / "lake", 5, print)
        for batch in range(5):
            # The reader keeps its connection open the whole time; each commit goes through regardless, and
            # the reader's next look sees exactly that commit (lock-step, so a loaded machine cannot merge two).
            with coordinator.hold("writer"):
                con.execute(
                    "INSERT INTO t SELECT 'k' || i, 'w' FROM range(?, ?) r(i)", [batch * 100, batch * 100 + 100]
                )
            assert lines.get(timeout=60) == str(batch * 100 + 100)
        assert reader.wait(timeout=60) == 0
    finally:
        reader.kill()


PASS_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from storage.coordination import FileCoordinator
    with FileCoordinator(Path(sys.argv[1]), 5, print).pass_running(sys.argv[2]):
        print("running", flush=True)
        time.sleep(600)
    """
)


def test_a_killed_pass_is_told_from_a_running_one(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", PASS_HOLDER, str(tmp_path), "run-a"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "running"
    coordinator = FileCoordinator(tmp_path, 5, print)
    try:
        assert coordinator.alive(["run-a", "run-b"]) == {"run-a"}
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert coordinator.alive(["run-a", "run-b"]) == set()


def test_an_old_single_file_warehouse_is_refused_with_the_migrate_command(tmp_path: Path) -> None:
    old = tmp_path / "newsmon.duckdb"
    old.write_bytes(b"not a lake")
    with pytest.raises(WarehouseNeedsMigration, match="newsmon migrate"):
        attach(LakeLocation.embedded(old))


HALF_READ = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from core.settings import WarehouseSettings
    from storage.lake import attach
    con = attach(WarehouseSettings.embedded(Path(sys.argv[1])), read_only=True)
    pending = con.execute("SELECT k FROM t")
    pending.fetchone()  # a result not fetched to the end keeps its read transaction open
    print("reading", flush=True)
    time.sleep(600)
    """
)


def test_a_half_read_result_left_open_does_not_block_commits(tmp_path: Path) -> None:
    """An analyst's notebook holding a result it never fetched to the end: the writer still commits at once
    (the SQLite catalog runs with a write-ahead log; in rollback-journal mode this commit would fail)."""
    location = LakeLocation.embedded(tmp_path / "lake")
    _create_table(location)
    con = attach(location)
    con.execute("INSERT INTO t SELECT 'k' || i, 'w' FROM range(3000) r(i)")
    reader = subprocess.Popen(
        [sys.executable, "-c", HALF_READ, str(tmp_path / "lake")], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
        for batch in range(3):
            con.execute("BEGIN")
            con.execute("INSERT INTO t SELECT 'n' || i, 'w' FROM range(?, ?) r(i)", [batch * 10, batch * 10 + 10])
            con.execute("COMMIT")
        assert con.execute("SELECT count(*) FROM t").fetchone() == (3030,)
    finally:
        reader.kill()
        reader.wait()
