"""The watcher's Prometheus metrics (`GET /metrics`), in a registry of its own (prometheus-client).

Rates ("articles per minute") are PromQL's job: `rate(newsmon_watch_articles_total[5m]) * 60`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 8, 13, 30, 60, 120, 300, 900, 3600)


class WatchMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.feeds = Gauge("newsmon_watch_feeds", "Configured feeds by state", ["state"], registry=r)
        self.poll_lag = Gauge("newsmon_watch_poll_lag_seconds", "How late the most overdue feed's poll is", registry=r)
        self.queue_depth = Gauge(
            "newsmon_watch_queue_depth", "New entries and pushes waiting for the next cycle", registry=r
        )
        self.in_cycle = Gauge("newsmon_watch_in_cycle", "1 while a processing cycle runs", registry=r)
        self.polls = Counter("newsmon_watch_polls", "Feed polls by outcome", ["outcome"], registry=r)
        self.pushes = Counter("newsmon_watch_pushes", "WebSub content distributions by result", ["result"], registry=r)
        self.entries = Counter("newsmon_watch_entries", "New entries found, by how they came", ["source"], registry=r)
        self.articles = Counter("newsmon_watch_articles", "Articles stored (originals and duplicates)", registry=r)
        self.alerts = Counter("newsmon_watch_alerts", "Notifications delivered", registry=r)
        self.cycles = Counter("newsmon_watch_cycles", "Processing cycles (flow runs) by status", ["status"], registry=r)
        self.stored_latency = Histogram(
            "newsmon_watch_publish_to_stored_seconds",
            "From a push's arrival (or the poll that found the entry) to the article's commit",
            ["source"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.alert_latency = Histogram(
            "newsmon_watch_publish_to_alert_seconds",
            "From a push's arrival (or the poll that found the entry) to its alert's delivery",
            ["source"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
