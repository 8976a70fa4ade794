"""`make bench`: a pass against bare extraction, an unchanged pass, the fixed cost, dedup scaling, memory.

Pages are the real ones in ../shared/corpora (article-extraction-benchmark, trafilatura's evaluation and
cache pages, newspaper4k), each served twice under two URLs from one loopback feed (~800 items). Results
are printed as a table and appended to bench/RESULTS.md with the date and the machine.

    .venv/bin/python bench/run.py [--corpora ../shared/corpora] [--skip-dedup] [--memory-pages 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def collect_pages(corpora: Path) -> list[bytes]:
    pages = [
        gzip.decompress(p.read_bytes()) for p in sorted((corpora / "article-extraction-benchmark/html").glob("*.gz"))
    ]
    for folder in ("trafilatura-eval/cache", "trafilatura-eval/eval", "newspaper4k-articles/html"):
        pages += [p.read_bytes() for p in sorted((corpora / folder).glob("*.htm*"))]
    return pages


def bare_loop(pages: list[bytes]) -> float:
    """The physical floor: trafilatura.extract + langdetect on each page, one process, one core."""
    import trafilatura
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    started = time.perf_counter()
    for body in pages:
        text = trafilatura.extract(body) or ""
        with contextlib.suppress(LangDetectException):
            detect(text[:4000])
    return time.perf_counter() - started


def build_site(folder: Path, pages: list[bytes], copies: int, distinct: bool = False) -> int:
    """One feed listing every page `copies` times under different URLs. `distinct` appends a comment that
    differs per copy, so no two responses are byte-identical (nothing can be extracted once for two)."""
    (folder / "p").mkdir(parents=True)
    (folder / "feeds").mkdir()
    items = []
    for index, body in enumerate(pages):
        for copy in range(copies):
            name = f"{index:05d}-{copy}.html"
            (folder / "p" / name).write_bytes(body + (f"<!-- copy {copy} -->".encode() if distinct else b""))
            items.append(f"<item><title>page {index} copy {copy}</title><link>{{{{BASE_URL}}}}/p/{name}</link></item>")
    feed = "<rss version='2.0'><channel><title>bench</title>" + "".join(items) + "</channel></rss>"
    (folder / "feeds" / "bench.xml").write_text(feed, encoding="utf-8")
    return len(items)


def run_pass(config: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall time and peak memory (MiB: the largest sum of RSS over the pass process and all its children,
    sampled every 0.2 s) of `newsmon run` as a user runs it: a fresh process."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "newsmon.cli", "run", "--config", str(config), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak_box = [0]

    def sample() -> None:
        tree = psutil.Process(process.pid)
        while process.poll() is None:
            with contextlib.suppress(psutil.Error):
                members = [tree, *tree.children(recursive=True)]
                total = 0
                for member in members:
                    with contextlib.suppress(psutil.Error):
                        total += member.memory_info().rss
                peak_box[0] = max(peak_box[0], total)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate(timeout=3600)
    elapsed = time.perf_counter() - started
    sampler.join()
    peak = peak_box[0] // (1024 * 1024)
    if process.returncode != 0:
        raise SystemExit(f"pass failed: {stderr[-3000:]}")
    return elapsed, peak, stdout


def write_config(folder: Path, base: str, feed: str, warehouse: Path) -> Path:
    config = folder / f"{warehouse.stem}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "warehouse": str(warehouse),
                "network": {"allow_hosts": ["127.0.0.1"], "retries": 0, "per_host_concurrency": 16},
                "pipeline": {"max_entries_per_feed": 100_000, "batch_size": 200},
                "feeds": [{"url": f"{base}/feeds/{feed}", "name": feed}],
            }
        ),
        encoding="utf-8",
    )
    return config


def memory_row(work: Path, pages: list[bytes], count: int) -> tuple[str, str]:
    from newsmon.demo import serve_site

    site = work / "memory-site"
    items = build_site(site, pages, copies=-(-count // len(pages)), distinct=True)
    with serve_site(site) as server:
        elapsed, peak, _ = run_pass(write_config(work, server.base_url, "bench.xml", work / "memory"))
    return (f"peak RSS of a pass over {items} pages", f"{peak} MiB in {elapsed:.0f} s (target < 2 GB)")


def pass_rows(work: Path, pages: list[bytes]) -> tuple[list[tuple[str, str]], str]:
    from newsmon.demo import serve_site
    from newsmon.prefect_server import standalone_server as prefect_server

    items = build_site(work / "site", pages, copies=2)
    build_site(work / "distinct", pages, copies=2, distinct=True)
    bare = bare_loop([p for p in pages for _ in range(2)])
    with serve_site(work / "site") as server:
        fixed, _, _ = run_pass(write_config(work, server.base_url, "missing.xml", work / "fixed"))
        config = write_config(work, server.base_url, "bench.xml", work / "bench")
        first, first_rss, summary = run_pass(config)
        second, _, _ = run_pass(config, "--all")
        with prefect_server(work / "prefect-home") as env:
            served_fixed, _, _ = run_pass(write_config(work, server.base_url, "missing.xml", work / "f2"), env=env)
            served = write_config(work, server.base_url, "bench.xml", work / "served")
            served_first, _, _ = run_pass(served, env=env)
    with serve_site(work / "distinct") as server:
        distinct, _, _ = run_pass(write_config(work, server.base_url, "bench.xml", work / "distinct"))
    rows = [
        ("items (pages served twice under two URLs)", f"{items}"),
        ("bare trafilatura.extract + langdetect, 1 process", f"{bare:.1f} s ({bare / items * 1000:.1f} ms/item)"),
        ("fixed cost of a pass (one feed answering 404)", f"{fixed:.1f} s"),
        ("first pass into an empty warehouse", f"{first:.1f} s (peak RSS {first_rss} MiB, all processes)"),
        ("**first pass / bare loop**", f"**{first / bare:.2f}x** (target <= 1.0, stretch 0.7)"),
        ("first pass net of fixed cost / bare loop", f"{(first - fixed) / bare:.2f}x"),
        ("unchanged second pass", f"{second:.1f} s"),
        (
            "**unchanged pass net / first pass net** (fixed cost removed)",
            f"**{max(0.0, second - fixed) / max(1e-9, first - fixed) * 100:.1f} %** (target <= 10 %)",
        ),
        ("fixed cost against a running Prefect server", f"{served_fixed:.1f} s"),
        (
            "first pass against a running Prefect server / bare loop",
            f"{served_first:.1f} s, {served_first / bare:.2f}x",
        ),
        (
            "first pass, copies made byte-distinct (every page extracted)",
            f"{distinct:.1f} s, {distinct / bare:.2f}x the bare loop",
        ),
    ]
    return rows, summary


def machine() -> str:
    return f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()}"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average (1/5/15 min) {one:.2f}/{five:.2f}/{fifteen:.2f}"


def append_results(text: str) -> None:
    """Print a benchmark's section and append it to bench/RESULTS.md after a blank line."""
    print(text)
    with (HERE / "RESULTS.md").open("a", encoding="utf-8") as results:
        results.write("\n" + text.strip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    parser.add_argument("--skip-dedup", action="store_true")
    parser.add_argument("--memory-pages", type=int, default=0, help="also measure peak memory over N pages")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    pages = collect_pages(Path(args.corpora))
    work = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    try:
        rows, summary = pass_rows(work, pages)
        print(summary)
        if args.memory_pages:
            rows.append(memory_row(work, pages, args.memory_pages))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not args.skip_dedup:
        scaling = subprocess.run(
            [sys.executable, str(HERE / "dedup_scaling.py")], capture_output=True, text=True, check=True
        )
        table = scaling.stdout[scaling.stdout.index("| indexed") :]
        rows.append(("dedup scaling", "see table below"))
    else:
        table = ""
    report = "\n".join(f"| {name} | {value} |" for name, value in rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"\n## {stamp} — {machine()}\n\n| measure | result |\n|---|---|\n{report}\n\n{table}\n"
    append_results(text)


if __name__ == "__main__":
    main()
