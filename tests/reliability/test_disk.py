"""Disk full while writing: a clear error, nothing half-written, and the warehouse works afterwards."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from storage.warehouse import Warehouse

WRITE_UNDER_A_FILE_SIZE_LIMIT = textwrap.dedent(
    """
    import random, resource, signal, sys
    from datetime import UTC, datetime
    from core.records import Article
    from storage import warehouse as wh
    from core.errors import WarehouseError
    from storage.warehouse import Warehouse

    path = sys.argv[1]
    limit = int(sys.argv[2])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, like ENOSPC
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    now = datetime.now(UTC)

    def noise(seed):  # text Parquet cannot compress away, so the data file really outgrows the limit
        rng = random.Random(seed)
        return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(20_000))

    articles = [
        Article(article_id=f"a{i:06d}", url=f"https://ex.com/{i}", canonical_url=f"https://ex.com/{i}",
                feed_url="https://ex.com/f", source="s", title=f"t{i}", text=f"{i} " + noise(i),
                text_source="page", language="ja", published_at=None, fetched_at=now, content_hash=f"h{i}")
        for i in range(300)
    ]
    try:
        with Warehouse(__import__("pathlib").Path(path)).transaction() as con:
            wh.insert_articles(con, "run", articles, [], now)
    except WarehouseError as exc:
        print("CLEAR ERROR:", exc)
        sys.exit(3)
    print("NO ERROR")
    """
)


def test_disk_full_mid_batch(tmp_path: Path) -> None:
    path = tmp_path / "wh"
    with Warehouse(path).session():
        pass
    size = (path / "catalog.sqlite").stat().st_size
    result = subprocess.run(
        [sys.executable, "-c", WRITE_UNDER_A_FILE_SIZE_LIMIT, str(path), str(size + 2_000_000)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stdout + result.stderr[-2000:]
    assert "cannot write warehouse" in result.stdout and "not stored" in result.stdout
    with Warehouse(path).transaction() as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)
        con.execute(
            "INSERT INTO runs (run_id, started_at, status) VALUES ('after', ?, 'completed')", [datetime.now(UTC)]
        )
    with Warehouse(path).session(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)
