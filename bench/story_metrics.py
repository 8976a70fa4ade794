"""Clustering metrics for the story evaluation: B-cubed (Amigó et al. 2009) and pairwise precision/recall/F1.

Both take two mappings item -> label (gold classes, system clusters) over the same items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _check(gold: Mapping[str, str], system: Mapping[str, str]) -> None:
    if set(gold) != set(system):
        raise ValueError("gold and system must label the same items")


def bcubed(gold: Mapping[str, str], system: Mapping[str, str]) -> PRF:
    """Item-averaged B-cubed: precision of an item = share of its cluster that has its gold class; recall =
    share of its gold class that is in its cluster (the item itself included)."""
    _check(gold, system)
    if not gold:
        return PRF(1.0, 1.0)
    both = Counter((gold[i], system[i]) for i in gold)
    class_size = Counter(gold.values())
    cluster_size = Counter(system.values())
    precision = sum(both[(gold[i], system[i])] / cluster_size[system[i]] for i in gold) / len(gold)
    recall = sum(both[(gold[i], system[i])] / class_size[gold[i]] for i in gold) / len(gold)
    return PRF(precision, recall)


def same_pairs(labels: Mapping[str, str]) -> set[tuple[str, str]]:
    """Unordered item pairs (sorted tuples) that share a label."""
    groups: dict[str, list[str]] = {}
    for item, label in labels.items():
        groups.setdefault(label, []).append(item)
    return {pair for members in groups.values() for pair in combinations(sorted(members), 2)}


def pairwise(gold: Mapping[str, str], system: Mapping[str, str]) -> PRF:
    """Precision/recall over item pairs put together (1.0 when there is nothing to put together or nothing was)."""
    _check(gold, system)
    gold_pairs, system_pairs = same_pairs(gold), same_pairs(system)
    hits = len(gold_pairs & system_pairs)
    precision = hits / len(system_pairs) if system_pairs else 1.0
    recall = hits / len(gold_pairs) if gold_pairs else 1.0
    return PRF(precision, recall)
