"""Near-duplicate index scaling: per-article candidate lookup time and memory at 10k, 100k and 1M documents.

The index is the real one (storage.lsh.LshIndex, a SQLite file); the documents are synthetic fingerprints
(random band keys, as MinHash bands of unrelated texts are). Each measurement looks up batches of 100 new
articles, a tenth of which share a band with an indexed document (as near-duplicates do), the way a pass
does: one query for the whole batch's keys, then the exact-hash query.

    .venv/bin/python bench/dedup_scaling.py [--sizes 10000,100000,1000000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from core.records import ARTICLE_PREFIX, Fingerprint
from extractors.dedup import BANDS, LEAD_LINES, PARAMETERS
from storage.lsh import LshIndex

KEYS_PER_DOC = BANDS + LEAD_LINES
CHUNK = 20_000
BATCH = 100
BATCHES = 30


def synthetic(rng: random.Random, number: int) -> tuple[str, Fingerprint]:
    keys = tuple(rng.getrandbits(64) - (1 << 63) for _ in range(KEYS_PER_DOC))
    return f"{ARTICLE_PREFIX}{number:012x}", Fingerprint(f"{rng.getrandbits(128):032x}", keys, 500)


def grow(index: LshIndex, rng: random.Random, start: int, stop: int) -> float:
    began = time.perf_counter()
    for low in range(start, stop, CHUNK):
        index.add([synthetic(rng, n) for n in range(low, min(stop, low + CHUNK))], high_water=min(stop, low + CHUNK))
    return time.perf_counter() - began


def lookup_batch(index: LshIndex, rng: random.Random, known_keys: list[int]) -> float:
    prints = [synthetic(rng, -1)[1] for _ in range(BATCH)]
    keys = [k for p in prints for k in p.band_keys] + rng.sample(known_keys, BATCH // 10)
    began = time.perf_counter()
    index.sharing_bands(keys)
    index.same_hash(p.content_hash for p in prints)
    return (time.perf_counter() - began) / BATCH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--dir", help="where to build the index (default: a temporary folder)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    folder = Path(args.dir or tempfile.mkdtemp(prefix="newsmon-bench-"))
    index = LshIndex(folder / "bench.lsh.sqlite", PARAMETERS + "-bench")
    index.clear()
    rng = random.Random(1)
    indexed = 0
    results = []
    for size in sizes:
        build = grow(index, rng, indexed, size)
        indexed = size
        known = [k for (k,) in index._con.execute("SELECT key FROM bands ORDER BY random() LIMIT 2000")]
        timings = [lookup_batch(index, rng, known) for _ in range(BATCHES)]
        file_mb = (folder / "bench.lsh.sqlite").stat().st_size / 2**20
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        row = (size, statistics.median(timings) * 1000, max(timings) * 1000, build, file_mb, rss_mb)
        results.append(row)
        print(
            f"{size:>9,} docs: lookup {row[1]:.3f} ms/article (median of {BATCHES} batches of {BATCH}; "
            f"worst {row[2]:.3f}), grew in {build:.1f} s, index file {file_mb:,.0f} MB, peak RSS {rss_mb:,.0f} MB",
            flush=True,
        )
    index.close()
    base = results[0][1]
    print("\n| indexed documents | lookup ms/article (median) | vs smallest | index file MB | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|")
    for size, median, _worst, _build, file_mb, rss_mb in results:
        print(f"| {size:,} | {median:.3f} | {median / base:.2f}x | {file_mb:,.0f} | {rss_mb:,.0f} |")


if __name__ == "__main__":
    main()
