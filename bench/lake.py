"""The warehouse as a DuckLake against the single-file DuckDB warehouse of the previous release.

    .venv/bin/python bench/lake.py --legacy-python OLD/.venv/bin/python --legacy-src OLD_CHECKOUT \
        [--views-articles 100000] [--pass-rounds 3] [--corpora ../shared/corpora]

The previous release's file needs its DuckDB 2.0, so its side runs in a subprocess with that release's
Python and source tree; this side runs the same script with this checkout. Measured:
1. store cost: batches of 100 articles (~6 KB of text each) committed one transaction each, and one batch
   of 1,000, as the pass stores them (check stored URLs, insert articles + mentions, commit);
2. the four documented views at N articles (synthetic rows made in SQL), median of 3 runs each;
3. data files of the lake in a long run (100 commits of 100 articles) before and after `maintain`;
4. end to end: `newsmon run` of each release on the same loopback site, alternating, median of N rounds.
Results are printed and appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

# Runs in either release: `storage.warehouse` has Warehouse, new_articles and insert_articles in both.
STORE = textwrap.dedent(
    """
    import json, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    try:
        from core.records import Article, Mention
    except ImportError:  # the previous release
        from newsmon.records import Article, Mention
    from storage import warehouse as wh

    target, batches, size, text_chars = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    now = datetime.now(UTC)
    body = ("电商平台 价格战 Temu Shein 物流 " * 400)[:text_chars]

    def article(n):
        return Article(article_id=f"a{n:07d}", url=f"https://ex.com/{n}?utm_source=x", canonical_url=f"https://ex.com/{n}",
                       feed_url=f"https://ex.com/feed{n % 20}", source="Ex", title=f"title {n}", text=f"{n} {body}",
                       text_source="page", language="zh-cn", published_at=now, fetched_at=now, content_hash=f"h{n}",
                       platforms=("temu", "shein"), topics=("pricing",), mentions=(Mention("temu", "Temu", "text", 3),))

    store = wh.Warehouse(target)
    with store.session():
        pass  # create and migrate first: not part of the store cost
    times = []
    for batch in range(batches):
        articles = [article(batch * size + i) for i in range(size)]
        started = time.perf_counter()
        with store.transaction() as con:
            fresh = wh.new_articles(con, articles)
            wh.insert_articles(con, "bench", fresh, [], now)
        times.append(time.perf_counter() - started)
    print(json.dumps(times))
    """
)

VIEWS = ("articles_unique", "mentions_daily", "syndication", "feed_health")

# Synthetic articles made in SQL (fast at 100k): 1 in 10 a copy of an earlier one, so syndication has work.
FILL = """
INSERT INTO articles (article_id, url, canonical_url, feed_url, source, title, text, text_source, language,
                      published_at, fetched_at, content_hash, platforms, topics, duplicate_of, similarity, run_id, seq)
SELECT 'a' || i, 'https://ex.com/' || i, 'https://ex.com/' || i, 'https://ex.com/feed' || (i % 50), 'src' || (i % 30),
       'title ' || i, repeat('电商 价格 ', 150) || i, 'page', ['zh-cn', 'ja', 'ko', 'en'][1 + i % 4],
       TIMESTAMPTZ '2026-01-01' + to_days(CAST(i % 300 AS INTEGER)),
       TIMESTAMPTZ '2026-01-01' + to_days(CAST(i % 300 AS INTEGER)),
       'h' || i, [['temu', 'shein', 'taobao', 'jd'][1 + i % 4], ['pinduoduo', 'tmall'][1 + i % 2]],
       CASE WHEN i % 3 = 0 THEN [] ELSE [['pricing', 'logistics', 'ai'][1 + i % 3]] END,
       CASE WHEN i % 10 = 9 AND i > 20 THEN 'a' || (i - 7) END, CASE WHEN i % 10 = 9 AND i > 20 THEN 0.9 END,
       'bench', i
FROM range(?, ?) r(i)
"""
FEEDS = (
    "INSERT INTO feeds (feed_url, name, consecutive_failures, articles_total, last_polled_at) "
    "SELECT 'https://ex.com/feed' || i, 'feed ' || i, i % 7, 100, now() FROM range(50) r(i)"
)
QUERY_VIEWS = textwrap.dedent(
    """
    import json, statistics, sys, time
    from pathlib import Path
    from storage import warehouse as wh
    target, count, fill, feeds = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    views = sys.argv[5].split(",")
    store = wh.Warehouse(target)
    for start in range(0, count, 10_000):
        with store.transaction() as con:
            con.execute(fill, [start, min(count, start + 10_000)])
    with store.transaction() as con:
        con.execute(feeds)
    result = {}
    with store.session() as con:
        for view in views:
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                con.execute(f"SELECT * FROM {view}").fetchall()
                runs.append(time.perf_counter() - started)
            result[view] = statistics.median(runs)
    print(json.dumps(result))
    """
)


def run_script(python: str, src: Path, script: str, *args: str) -> Any:
    env = {**os.environ, "PYTHONPATH": str(src)}
    result = subprocess.run(
        [python, "-c", script, *args], cwd=src, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{python} failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def store_rows(work: Path, sides: dict[str, tuple[str, Path, str]], rounds: int) -> list[tuple[str, str]]:
    """Both sides alternate, `rounds` times (the machine's load changes; alternating shares it fairly)."""
    batches: dict[str, list[float]] = {name: [] for name in sides}
    totals: dict[str, list[float]] = {name: [] for name in sides}
    singles: dict[str, list[float]] = {name: [] for name in sides}
    for number in range(rounds):
        for name, (python, src, suffix) in sides.items():
            times = run_script(python, src, STORE, str(work / f"store-{name}-{number}{suffix}"), "10", "100", "6000")
            single = run_script(python, src, STORE, str(work / f"one-{name}-{number}{suffix}"), "1", "1000", "6000")
            batches[name] += times
            totals[name].append(sum(times))
            singles[name].append(single[0])
    rows: list[tuple[str, str]] = []
    for name in sides:
        rows.append((f"{name}: batch of 100 articles (median of {len(batches[name])} commits)", _ms(batches[name])))
        rows.append((f"{name}: 1,000 articles in 10 batches of 100 (median of {rounds})", _ms(totals[name])))
        rows.append((f"{name}: 1,000 articles in one batch (median of {rounds})", _ms(singles[name])))
    if len(sides) == 2:
        for label, values in (
            ("batch of 100", batches),
            ("10 batches of 100", totals),
            ("one batch of 1,000", singles),
        ):
            ratio = statistics.median(values["lake"]) / statistics.median(values["file"])
            rows.append((f"**store cost lake / file**, {label}", f"**{ratio:.2f}x**"))
    return rows


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def view_rows(work: Path, sides: dict[str, tuple[str, Path, str]], count: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name, (python, src, suffix) in sides.items():
        times = run_script(
            python, src, QUERY_VIEWS, str(work / f"views-{name}{suffix}"), str(count), FILL, FEEDS, ",".join(VIEWS)
        )
        rows += [
            (f"{name}: `SELECT * FROM {view}` at {count:,} articles", f"{times[view] * 1000:.0f} ms") for view in VIEWS
        ]
    return rows


def file_rows(work: Path) -> list[tuple[str, str]]:
    from datetime import timedelta

    from core.settings import WarehouseSettings
    from storage.maintenance import data_file_count, maintain
    from storage.warehouse import Warehouse

    lake = work / "long-run"
    run_script(sys.executable, ROOT, STORE, str(lake), "100", "100", "1000")
    settings = WarehouseSettings.embedded(lake)
    before = data_file_count(settings.data_path)
    store = Warehouse(settings)
    started = time.perf_counter()
    with store.write_lock(), store.session() as con:
        report = maintain(con, settings.data_path, timedelta(0))
    took = time.perf_counter() - started
    store.close()
    return [
        ("lake data files after 100 commits of 100 articles", f"{before}"),
        ("after `maintain` (retention 0 days)", f"{report.files_after} files, {took:.1f} s"),
        ("snapshots before / after", f"{report.snapshots_before} / {report.snapshots_after}"),
    ]


def pass_rows(work: Path, sides: dict[str, tuple[str, Path, str]], corpora: Path, rounds: int) -> list[tuple[str, str]]:
    from bench.run import build_site, collect_pages, write_config
    from newsmon.demo import serve_site

    pages = collect_pages(corpora)
    if not pages:
        raise SystemExit(f"no pages under {corpora}: pass --corpora")
    items = build_site(work / "site", pages, copies=2)
    times: dict[str, list[float]] = {name: [] for name in sides}
    with serve_site(work / "site") as server:
        for number in range(rounds):
            for name, (python, src, suffix) in sides.items():
                config = write_config(work, server.base_url, "bench.xml", work / f"pass-{name}-{number}{suffix}")
                env = {**os.environ, "PYTHONPATH": str(src), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
                started = time.perf_counter()
                result = subprocess.run(
                    [python, "-m", "newsmon.cli", "run", "--config", str(config)],
                    cwd=src,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=3600,
                    check=False,
                )
                if result.returncode != 0:
                    raise SystemExit(f"{name} pass failed: {result.stderr[-3000:]}")
                times[name].append(time.perf_counter() - started)
    rows = [
        (
            f"{name}: first pass over {items} items (median of {rounds}, alternating)",
            f"{statistics.median(t):.1f} s ({', '.join(f'{x:.1f}' for x in t)})",
        )
        for name, t in times.items()
    ]
    if len(times) == 2:
        ratio = statistics.median(times["lake"]) / statistics.median(times["file"])
        rows.append(("**end-to-end pass lake / file**", f"**{ratio:.2f}x** (target <= 1.10)"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--legacy-python", help="Python of the previous release (duckdb 2.0)")
    parser.add_argument("--legacy-src", help="source tree of the previous release")
    parser.add_argument("--views-articles", type=int, default=100_000)
    parser.add_argument("--pass-rounds", type=int, default=3)
    parser.add_argument("--store-rounds", type=int, default=3)
    parser.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"), help="the shared corpora")
    args = parser.parse_args()
    sides: dict[str, tuple[str, Path, str]] = {"lake": (sys.executable, ROOT, "")}
    if args.legacy_python and args.legacy_src:
        sides = {"file": (args.legacy_python, Path(args.legacy_src).resolve(), ".duckdb"), **sides}
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-lake-") as scratch:
        work = Path(scratch)
        rows = store_rows(work, sides, args.store_rounds)
        rows += view_rows(work, sides, args.views_articles)
        rows += file_rows(work)
        if args.pass_rounds:
            rows += pass_rows(work, sides, Path(args.corpora), args.pass_rounds)
    table = "\n".join(["| measure | result |", "|---|---|", *(f"| {m} | {r} |" for m, r in rows)])
    from bench.run import append_results, machine

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    append_results(f"## {stamp} — DuckLake warehouse (bench/lake.py) — {machine()}\n\n{table}")


if __name__ == "__main__":
    main()
