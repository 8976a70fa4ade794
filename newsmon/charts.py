"""The report's charts as inline SVG (pygal): no JavaScript, nothing loaded from the network, a few
kilobytes each. Days are categories labelled with their date, so one day of data is one labelled bar and
90 days are 90 thin bars with a date every week or two — never an axis of fractional seconds."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

import pygal
from lxml import etree
from pygal.style import Style

from core.views import DayCount, PairCount

TOP_SERIES = 8
TOP_PLATFORMS = 12
BARS_UP_TO_DAYS = 3  # up to this many days every bar is labelled with its date and values
_MAJOR_LABELS = 8
_FONT = 'system-ui, "Noto Sans CJK JP", "Noto Sans CJK SC", "Hiragino Sans", "Noto Sans", sans-serif'
_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#333",
    foreground_strong="#222",
    foreground_subtle="#ddd",
    font_family=_FONT,
    label_font_family=_FONT,
    major_label_font_family=_FONT,
    legend_font_family=_FONT,
    title_font_family=_FONT,
    value_font_family=_FONT,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=11,
    colors=("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#9d755d", "#bab0ac"),
)


def _config(**options: object) -> dict[str, object]:
    base: dict[str, object] = {
        "style": _STYLE,
        "js": [],  # pygal's tooltips load a script from the web: none here
        "disable_xml_declaration": True,
        "width": 1000,
        "height": 360,
        "legend_at_bottom": False,
        "legend_box_size": 12,
        "truncate_legend": 18,
        "truncate_label": 30,
        "margin": 12,
        "print_values_position": "top",
    }
    return {**base, **options}


def integer_ticks(highest: int, most: int = 6) -> list[int]:
    """Y labels for counts: whole numbers from 0 to at least `highest` (and 1), in steps of 1, 2, 5, 10,
    20, 50, … so that there are at most about `most` of them."""
    highest = max(highest, 1)
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if highest / step <= most:
                top = -(-highest // step) * step
                return list(range(0, top + step, step))
        magnitude *= 10


# pygal always embeds its configuration for its (web-loaded) tooltip script; with no script it is dead weight.
_CONFIG_SCRIPT = re.compile(r"<script type=\"text/javascript\">window\.pygal = .*?</script>", re.S)


_SVG = "{http://www.w3.org/2000/svg}"
_SERIE = re.compile(r"\bserie-(\d+)\b")


def _render(chart: pygal.graph.graph.Graph, names: list[str], caption: str) -> str:
    """The chart's SVG, each bar with a native <title> tooltip ("temu · Nov 12: 3"): pygal's own tooltips
    need its web-loaded script. `names`: the series in the order they were added; `caption` replaces
    pygal's document title ("Pygal"), which browsers show when hovering the chart."""
    tree = etree.fromstring(_CONFIG_SCRIPT.sub("", str(chart.render(is_unicode=True))).encode())
    for root_title in tree.findall(f"{_SVG}title"):
        root_title.text = caption
    for group in tree.iter(f"{_SVG}g"):
        match = _SERIE.search(group.get("class") or "")
        if match is None:
            continue
        name = names[int(match.group(1))] if int(match.group(1)) < len(names) else ""
        for bar in group.iter(f"{_SVG}g"):
            if bar.get("class") == "bar":
                _add_title(bar, name)
    return str(etree.tostring(tree, encoding="unicode"))


def _add_title(bar: etree._Element, name: str) -> None:
    descs = {d.get("class", "").split()[0]: d.text or "" for d in bar.iter(f"{_SVG}desc")}
    value, label = descs.get("value", ""), descs.get("x_label", "")
    if value in ("", "0"):
        return  # an empty bar has nothing to hover
    title = etree.SubElement(bar, f"{_SVG}title")
    title.text = " · ".join(part for part in (name, label) if part) + (f": {value}" if value else "")


def day_axis(days: Sequence[date], window_start: date, today: date) -> list[date]:
    """Every day from the first day with data (not before the window) to today; at least today."""
    first = max(min(days, default=today), window_start)
    last = max(max(days, default=today), today)
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def _top_keys(counts: Sequence[DayCount], limit: int) -> list[str]:
    totals: dict[str, int] = defaultdict(int)
    for c in counts:
        totals[c.key] += c.articles
    return sorted(totals, key=lambda k: (-totals[k], k))[:limit]


def per_day_chart(counts: Sequence[DayCount], window_start: date, today: date, unit: str) -> str:
    """Original articles per day, a bar per day stacked by the top keys; with up to 3 days the values are
    printed on the bars, beyond that about 8 dates are labelled."""
    axis = day_axis([c.day for c in counts], window_start, today)
    keys = _top_keys(counts, TOP_SERIES)
    by_key: dict[str, dict[date, int]] = defaultdict(dict)
    for c in counts:
        by_key[c.key][c.day] = c.articles
    labels = [d.strftime("%b %d").replace(" 0", " ") for d in axis]
    every = max(1, round(len(axis) / _MAJOR_LABELS))
    few = len(axis) <= BARS_UP_TO_DAYS
    chart = pygal.StackedBar(
        **_config(
            y_title=unit,
            print_values=few,
            x_labels_major=labels[::every],
            show_minor_x_labels=few,
        )
    )
    chart.x_labels = labels
    per_day: dict[date, int] = defaultdict(int)
    for c in counts:
        if c.key in keys:
            per_day[c.day] += c.articles
    chart.y_labels = integer_ticks(max(per_day.values(), default=1))
    for key in keys:
        chart.add(key, [by_key[key].get(day, 0) for day in axis])
    if not keys:
        chart.add("none", [0 for _ in axis])
    return _render(chart, keys, f"{unit} per day")


def topic_mix_chart(pairs: Sequence[PairCount]) -> str:
    """Stacked bars: the top platforms, each split by topic."""
    totals: dict[str, int] = defaultdict(int)
    for p in pairs:
        totals[p.platform] += p.articles
    platforms = sorted(totals, key=lambda k: (-totals[k], k))[:TOP_PLATFORMS]
    topics = sorted({p.topic for p in pairs if p.platform in platforms})
    counts = {(p.platform, p.topic): p.articles for p in pairs}
    chart = pygal.StackedBar(**_config(y_title="original articles"))
    chart.x_labels = platforms
    chart.y_labels = integer_ticks(max(totals.values(), default=1))
    for topic in topics:
        chart.add(topic, [counts.get((platform, topic)) for platform in platforms])
    if not topics:
        chart.add("none", [])
    return _render(chart, topics, "original articles per platform and topic")


def totals_chart(counts: Sequence[DayCount], unit: str) -> str:
    """One bar per key (e.g. language) with its total over the window, largest first, values printed."""
    totals: dict[str, int] = defaultdict(int)
    for c in counts:
        totals[c.key] += c.articles
    keys = sorted(totals, key=lambda k: (-totals[k], k))
    chart = pygal.Bar(**_config(height=300, print_values=True, show_legend=False, y_title=unit))
    chart.x_labels = keys
    chart.y_labels = integer_ticks(max(totals.values(), default=1))
    chart.add(unit, [totals[k] for k in keys])
    return _render(chart, [""], unit)
