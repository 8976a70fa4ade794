"""A damaged warehouse (its catalog file) and a warehouse folder under a missing folder (classes 8 and 13 of
issue 16): every command says in one line what is wrong and what to do, exits 1, and prints no traceback."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import CATALOG_FILE
from newsmon.cli import main
from storage.warehouse import Warehouse
from tests.conftest import CLI_PASSES
from tests.helpers import WAREHOUSE, write_config


def _warehouse(folder: Path) -> Path:
    """A real lake with the current schema and some rows; returns its folder."""
    lake = folder / WAREHOUSE
    warehouse = Warehouse(lake)
    with warehouse.transaction() as con:
        con.execute(
            "INSERT INTO feeds (feed_url, name, consecutive_failures, articles_total) "
            "SELECT 'https://ex.com/' || range, 'feed ' || range, 0, 0 FROM range(3000)"
        )
    warehouse.close()
    return lake


@functools.cache
def _template() -> Path:
    return _warehouse(Path(tempfile.mkdtemp(prefix="newsmon-pristine-")))


def pristine() -> bytes:
    """The lake's catalog (an SQLite file)."""
    return (_template() / CATALOG_FILE).read_bytes()


def _damaged_lake(folder: Path, catalog: bytes) -> Path:
    """A copy of the pristine lake (catalog + data files) whose catalog is `catalog`."""
    lake = folder / WAREHOUSE
    shutil.copytree(_template(), lake, dirs_exist_ok=True)
    for sidecar in lake.glob(f"{CATALOG_FILE}-*"):  # -wal, -shm: only the catalog file itself counts
        sidecar.unlink()
    (lake / CATALOG_FILE).write_bytes(catalog)
    return lake


def _status(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    config = write_config(folder, [])
    code = main(["status", "--config", str(config)])
    return code, capsys.readouterr().err.strip().splitlines()


@settings(max_examples=25, suppress_health_check=list(HealthCheck))
@given(fraction=st.floats(0.01, 0.99), garbage=st.booleans())
def test_status_on_a_damaged_file_says_so_in_one_line(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    fraction: float,
    garbage: bool,
) -> None:
    folder = tmp_path_factory.mktemp("damaged")
    cut = int(len(pristine()) * fraction)
    damaged = pristine()[:cut] + (bytes(range(256)) * 64 if garbage else b"")
    lake = _damaged_lake(folder, damaged)
    code, lines = _status(folder, capsys)
    if code == 0:
        return  # the damage missed everything status reads
    assert code == 1 and len(lines) == 1, lines
    assert "damaged" in lines[0] and "backup" in lines[0] and str(lake) in lines[0]


def test_status_on_a_foreign_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _damaged_lake(tmp_path, b"\0" * 8 + b"DUCK" + bytes(5000))  # a DuckDB file where the SQLite catalog belongs
    code, lines = _status(tmp_path, capsys)
    assert code == 1 and len(lines) == 1 and "damaged or foreign file" in lines[0], lines


def _run(config: Path) -> subprocess.CompletedProcess[str]:
    newsmon = Path(sys.executable).parent / "newsmon"
    return subprocess.run([str(newsmon), "run", "--config", str(config)], capture_output=True, text=True, timeout=300)


def _our_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("newsmon:")]


@pytest.mark.integration
@CLI_PASSES
def test_run_on_a_truncated_warehouse_and_under_a_missing_folder(tmp_path: Path) -> None:
    _damaged_lake(tmp_path, pristine()[: len(pristine()) // 5])
    result = _run(write_config(tmp_path, []))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert len(_our_lines(result.stderr)) == 1 and "damaged" in result.stderr
    assert "disk full" not in result.stderr
    missing = tmp_path / "no" / "such" / "folder"
    config = write_config(tmp_path, [])
    config.write_text(config.read_text().replace(str(tmp_path / WAREHOUSE), str(missing / WAREHOUSE)))
    result = _run(config)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = _our_lines(result.stderr)
    assert len(lines) == 1 and f"does not exist: {missing} " in lines[0], lines
    assert not (tmp_path / "no").exists()
