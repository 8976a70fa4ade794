"""Builds dedup-pairs.json (run once from the repository root:
`.venv/bin/python tests/data/hard-cases/make_dedup_pairs.py`).

- Template reports (figures.yaml, written for newsmon): each quarter's report, its reprint by another outlet
  (credit line, a paragraph dropped, a phrase reworded; same figures) = duplicate; reports and reprints of
  other quarters = not duplicates (same wording, other figures).
- Copies with 30 % of their sentences replaced, each by a sentence of similar length from some other article
  of the same language (as a rewriting outlet replaces a sentence with its own), the rest kept in order =
  duplicates. Originals
  are real text: the seed corpus, extraction-benchmark ground truth (first 60 articles with >= 8 sentences)
  and crossscript.json's originals.
"""

from __future__ import annotations

import json
import random
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from extractors.seeds import parse_seed
from newsmon.resources import bundled_seeds_dir

HERE = Path(__file__).parent
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=\.)\s+|\n")


def fill(template: str, values: dict[str, Any]) -> str:
    return template.format(**{key: str(value) for key, value in values.items()})


def reprint(report: str, spec: dict[str, Any]) -> str:
    lines = report.strip().split("\n")
    lines.pop(int(spec["drop_line"]))
    old, new = spec["reword"]
    return "\n".join([*lines, spec["credit"]]).replace(old, new)


def figures_pairs() -> list[dict[str, Any]]:
    pairs = []
    for group in yaml.safe_load((HERE / "figures.yaml").read_text(encoding="utf-8")):
        reports = [fill(group["template"], {**group["values"], **quarter}) for quarter in group["quarters"]]
        reprints = [reprint(r, group["reprint"]) for r in reports]
        for i, j in combinations(range(len(reports)), 2):
            pairs.append({"kind": "same template, other quarter", "a": reports[i], "b": reports[j], "duplicate": False})
            pairs.append({"kind": "reprint vs other quarter", "a": reprints[i], "b": reports[j], "duplicate": False})
        for report, copy in zip(reports, reprints, strict=True):
            pairs.append({"kind": "reprint of a quarter", "a": report, "b": copy, "duplicate": True})
    return pairs


def split_sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text) if part and part.strip()]


def rewritten(text: str, others: list[str], share: float, rng: random.Random) -> str:
    """`share` of the sentences replaced, each by a sentence of similar length from some other article of
    the same language (no other article contributes more than a sentence or two), the rest kept in order."""
    parts = split_sentences(text)
    chosen = set(rng.sample(range(len(parts)), round(len(parts) * share)))
    joiner = "" if re.search("[\u3040-\u9fff]", text[:200]) else " "
    out = []
    for index, part in enumerate(parts):
        if index in chosen:
            offered = [s for other in rng.sample(others, min(8, len(others))) for s in split_sentences(other)]
            part = min(offered or [part], key=lambda s: (abs(len(s) - len(part)), s))
        out.append(part)
    return joiner.join(out)


def rewritten_pairs(rng: random.Random) -> list[dict[str, Any]]:
    bodies = json.loads((HERE.parent / "extraction-benchmark" / "bodies.json").read_text(encoding="utf-8"))
    texts = [parse_seed(p.stem, p.read_bytes()).text for p in sorted(bundled_seeds_dir().glob("0*.txt"))]
    texts += [t for _, t in sorted(bodies["ground_truth"].items()) if len(split_sentences(t)) >= 8][:60]
    texts += [p["a"] for p in json.loads((HERE / "crossscript.json").read_text(encoding="utf-8"))]
    texts = [t for t in texts if len(split_sentences(t)) >= 6]

    def script(text: str) -> str:
        return "kana" if re.search("[\u3040-\u30ff]", text) else "han" if re.search("[\u4e00-\u9fff]", text) else ""

    pairs = []
    for text in texts:
        others = [t for t in texts if t is not text and script(t) == script(text)]
        b = rewritten(text, others, 0.3, rng)
        pairs.append({"kind": "30% of sentences replaced", "a": text, "b": b, "duplicate": True})
    return pairs


def main() -> None:
    pairs = [*figures_pairs(), *rewritten_pairs(random.Random(20261130))]
    out = HERE / "dedup-pairs.json"
    out.write_text(json.dumps(pairs, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(pairs)} pairs -> {out}")


if __name__ == "__main__":
    main()
