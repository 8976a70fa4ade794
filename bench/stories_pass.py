"""What stories cost a pass: the first pass of `make bench` (real corpus pages, each served twice) with
`stories.enabled` false and true, alternated, in fresh processes. Reports wall time, the CPU time of the
pass process and the children it waits for (Prefect's temporary server; not the extraction workers, which
are the fork server's children and do the same work either way — story assignment runs in the pass
process), and how many originals were embedded. Appends to bench/RESULTS.md.

    .venv/bin/python bench/stories_pass.py [--corpora ../shared/corpora] [--rounds 2] [--no-append]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.run import append_results, build_site, collect_pages, machine, run_pass, write_config  # noqa: E402
from core.settings import WarehouseSettings  # noqa: E402
from storage.lake import attach  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_pass(work: Path, base: str, name: str, enabled: bool) -> tuple[float, float, int]:
    config = write_config(work, base, "bench.xml", work / name)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["stories"] = {"enabled": enabled}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    before = _children_cpu()
    wall, _, _ = run_pass(config)
    cpu = _children_cpu() - before
    con = attach(WarehouseSettings.embedded(work / name), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM story_features").fetchone()
    finally:
        con.close()
    return wall, cpu, int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    from newsmon.demo import serve_site

    pages = collect_pages(Path(args.corpora))
    work = Path(tempfile.mkdtemp(prefix="newsmon-stories-bench-"))
    results: dict[bool, list[tuple[float, float, int]]] = {False: [], True: []}
    try:
        items = build_site(work / "site", pages, copies=2)
        with serve_site(work / "site") as server:
            for number in range(args.rounds):
                for enabled in (False, True) if number % 2 == 0 else (True, False):
                    results[enabled].append(one_pass(work, server.base_url, f"p{number}-{enabled}", enabled))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(enabled: bool, field: int) -> float:
        return statistics.median(r[field] for r in results[enabled])

    off_wall, on_wall, off_cpu, on_cpu = median(False, 0), median(True, 0), median(False, 1), median(True, 1)
    embedded = int(median(True, 2))
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — stories in a first pass (bench/stories_pass.py) · {machine()}",
        "",
        f"{items} items (the `make bench` corpus, each page served twice), {args.rounds} rounds, medians.",
        "",
        "| measure | stories off | stories on | difference |",
        "|---|---:|---:|---:|",
        f"| wall time of the pass | {off_wall:.1f} s | {on_wall:.1f} s | {on_wall / off_wall - 1:+.1%} |",
        f"| CPU, pass process + Prefect server | {off_cpu:.1f} s | {on_cpu:.1f} s | {on_cpu / off_cpu - 1:+.1%} |",
        f"| originals embedded | 0 | {embedded} | {(on_cpu - off_cpu) / max(embedded, 1) * 1000:.1f} ms CPU each |",
        "",
    ]
    text = "\n".join(lines)
    if args.no_append:
        print(text)
    else:
        append_results(text)


if __name__ == "__main__":
    main()
