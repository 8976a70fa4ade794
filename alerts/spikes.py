"""Per-platform spike detection: today's originals mentioning a platform against its recent baseline."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Spike:
    platform: str
    day: date
    count: int
    mean: float
    stdev: float


def find_spikes(
    counts: Mapping[str, Mapping[date, int]], today: date, days: int, sigma: float, min_mentions: int
) -> list[Spike]:
    """Platforms whose count today exceeds mean + sigma x stdev of the `days` days before (missing days
    count as 0) and is at least `min_mentions`. Needs no history beyond what `counts` holds."""
    spikes: list[Spike] = []
    history_days = [today - timedelta(days=offset) for offset in range(1, days + 1)]
    for platform, per_day in sorted(counts.items()):
        count = per_day.get(today, 0)
        if count < min_mentions:
            continue
        history = [per_day.get(day, 0) for day in history_days]
        mean = statistics.fmean(history)
        stdev = statistics.pstdev(history)
        if count > mean + sigma * stdev:
            spikes.append(Spike(platform, today, count, mean, stdev))
    return spikes
