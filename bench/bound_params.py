"""What DuckDB's Python client costs per bound parameter with and without pandas importable.

    .venv/bin/python bench/bound_params.py [--rows 100]

DuckDB 1.5's client checks every bound value against pandas' types. When pandas cannot be imported it tries
the import again for each value. This stores `--rows` story-feature rows (an id, a 512-float embedding, three
short lists: what `storage.stories.insert_story_features` binds per new original) and 30 article-like text
columns per row into a real lake, once in a process where pandas imports and once in a process where the
import fails after the full sys.path search a missing package costs. Printed and appended to RESULTS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.run import append_results, load_average, machine  # noqa: E402

STORE = textwrap.dedent(
    """
    import importlib.machinery, sys, time
    from pathlib import Path
    if sys.argv[3] == "hidden":
        class Missing:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "pandas":
                    importlib.machinery.PathFinder.find_spec(name, path)  # the search a missing package costs
                    raise ModuleNotFoundError(name)
                return None
        sys.meta_path.insert(0, Missing())
    import numpy as np
    from core.settings import WarehouseSettings
    from storage.connection import insert_rows
    from storage.lake import attach
    con = attach(WarehouseSettings.embedded(Path(sys.argv[1])))
    con.execute("CREATE TABLE features (id VARCHAR, e FLOAT[], a VARCHAR[], b VARCHAR[], c VARCHAR[])")
    con.execute("CREATE TABLE texts (" + ", ".join(f"c{i} VARCHAR" for i in range(30)) + ")")
    n = int(sys.argv[2])
    rows = [(f"a{i}", np.random.rand(512).astype(np.float32).tolist(), ["x"], ["y"], ["z"]) for i in range(n)]
    texts = [tuple(f"text {i} {j}" for j in range(30)) for i in range(n)]
    started = time.perf_counter()
    insert_rows(con, "features", ["id", "e", "a", "b", "c"], rows)
    middle = time.perf_counter()
    insert_rows(con, "texts", [f"c{i}" for i in range(30)], texts)
    print(f"{middle - started:.3f} {time.perf_counter() - middle:.3f}")
    """
)


def measure(rows: int, pandas: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [sys.executable, "-c", STORE, folder, str(rows), pandas],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100)
    rows = parser.parse_args().rows
    with_pandas, hidden = measure(rows, "importable"), measure(rows, "hidden")
    table = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — bound parameters (bench/bound_params.py), {rows} rows — "
        f"{machine()}",
        "",
        f"{load_average()} at the end.",
        "",
        "| insert | pandas importable | pandas missing | ratio |",
        "|---|---|---|---|",
        f"| story features (512 floats + 3 lists) | {with_pandas[0]:.3f} s | {hidden[0]:.3f} s "
        f"| {hidden[0] / with_pandas[0]:.0f}x |",
        f"| 30 text columns | {with_pandas[1]:.3f} s | {hidden[1]:.3f} s | {hidden[1] / with_pandas[1]:.0f}x |",
    ]
    append_results("\n".join(table))


if __name__ == "__main__":
    main()
