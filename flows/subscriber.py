"""WebSub subscriber, the stateful part: the watcher's live subscriptions (shared between the callback
server's threads and the watch loop), the hub requests, and what reaches the pipeline from a push.

The callback threads only change subscriptions in memory and queue accepted pushes; the watch loop (the one
warehouse writer) stores changed subscriptions (`take_changed`) and sends hub requests (`run_due`).
"""

from __future__ import annotations

import queue
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from core.errors import FetchError
from core.records import Subscription
from core.settings import WebSubSettings
from flows.http import HttpFetcher
from flows.websub import (
    Answer,
    callback_url,
    due_action,
    is_pushing,
    new_subscription,
    push_status,
    push_verdict,
    renewal,
    unsubscribing,
    verify_intent,
)


@dataclass(frozen=True)
class Push:
    """A content distribution that passed the checks: the feed document as the hub sent it."""

    feed_url: str
    topic: str
    body: bytes
    content_type: str | None
    received_at: datetime
    link_header: str | None


class Subscriptions:
    """Thread-safe registry of subscriptions by callback id, with the queue of accepted pushes."""

    def __init__(self, settings: WebSubSettings, stored: Iterable[Subscription] = ()) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._subs: dict[str, Subscription] = {s.callback_id: s for s in stored}
        self._changed: set[str] = set()
        self.pushes: queue.Queue[Push] = queue.Queue()
        self.rejected: Counter[str] = Counter()
        self.on_push: Callable[[], None] | None = None  # wakes the watch loop

    def _put(self, sub: Subscription) -> None:
        self._subs[sub.callback_id] = sub
        self._changed.add(sub.callback_id)

    def all(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs.values())

    def for_feed(self, feed_url: str) -> Subscription | None:
        with self._lock:
            return next((s for s in self._subs.values() if s.feed_url == feed_url), None)

    def pushing(self, feed_url: str, now: datetime) -> bool:
        return is_pushing(self.for_feed(feed_url), now, self.settings)

    def take_changed(self) -> list[Subscription]:
        """Subscriptions changed since the last call (to be stored by the writer)."""
        with self._lock:
            changed = [self._subs[i] for i in self._changed if i in self._subs]
            self._changed.clear()
        return changed

    def verify(self, callback_id: str, params: dict[str, str], now: datetime) -> Answer:
        with self._lock:
            answer = verify_intent(self._subs.get(callback_id), params, now, random.random())  # noqa: S311
            if answer.subscription is not None:
                self._put(answer.subscription)
        return answer

    def receive(self, callback_id: str, headers: Mapping[str, str], body: bytes, now: datetime) -> int:
        """A content distribution: queue it when the signature and size are right; the HTTP status to send."""
        with self._lock:
            sub = self._subs.get(callback_id)
            rejection = push_verdict(sub, headers.get("x-hub-signature"), body, self.settings)
            if rejection is not None or sub is None:
                self.rejected[rejection or "unknown_callback"] += 1
                return push_status(rejection)
            self._put(replace(sub, last_push_at=now))
        push = Push(sub.feed_url, sub.topic, body, headers.get("content-type"), now, headers.get("link"))
        self.pushes.put(push)
        if self.on_push is not None:
            self.on_push()
        return push_status(None)

    def missed(self, feed_url: str, now: datetime) -> None:
        """A poll found entries the hub had not pushed: poll on the normal schedule until the next push."""
        with self._lock:
            sub = next((s for s in self._subs.values() if s.feed_url == feed_url and s.state == "active"), None)
            if sub is not None:
                self._put(replace(sub, missed_at=now))

    def discovered(self, feed_url: str, topic: str | None, hubs: tuple[str, ...], now: datetime) -> None:
        """A poll saw the feed's hubs: start a subscription when the feed has none yet."""
        if not hubs or self.for_feed(feed_url) is not None:
            return
        with self._lock:
            self._put(new_subscription(feed_url, topic or feed_url, hubs[0], now))

    def run_due(self, fetcher: HttpFetcher, wanted: set[str], now: datetime, limit: int = 50) -> list[str]:
        """Send the hub requests that are due (new, renew, retry, unsubscribe unused), at most `limit` (the
        rest on the next call: the watch loop waits for them); expire lapsed leases. One line per action."""
        done: list[str] = []
        for sub in self.all():
            if len(done) >= limit:
                break
            if sub.sent_at is None and sub.state == "requested":
                done.append(self._send(fetcher, sub, "subscribe", now))
                continue
            action = due_action(sub, sub.feed_url in wanted, now, self.settings)
            if action == "expire":
                with self._lock:
                    self._put(replace(sub, state="expired", error="lease lapsed"))
                done.append(f"lease of {sub.topic} lapsed: polling it on its normal schedule")
            elif action in ("renew", "retry"):
                done.append(self._send(fetcher, renewal(sub, now), "subscribe", now))
            elif action == "unsubscribe":
                done.append(self._send(fetcher, unsubscribing(sub, now), "unsubscribe", now))
        return done

    def _send(self, fetcher: HttpFetcher, sub: Subscription, mode: str, now: datetime) -> str:
        form = {
            "hub.mode": mode,
            "hub.topic": sub.topic,
            "hub.callback": callback_url(self.settings.callback_url, sub),
        }
        if mode == "subscribe":
            form |= {"hub.secret": sub.secret, "hub.lease_seconds": str(self.settings.lease_seconds)}
        error: str | None = None
        try:
            fetcher.post_form(sub.hub, form)
        except FetchError as failure:
            error = f"hub request failed: {failure.reason}"
        with self._lock:
            current = self._subs.get(sub.callback_id, sub)
            state = "failed" if error and current.state != "active" else current.state
            if mode == "unsubscribe":
                state = current.state if error else "unsubscribing"
            self._put(replace(current, intent=sub.intent, requested_at=now, sent_at=now, state=state, error=error))
        return f"{mode} {sub.topic} at {sub.hub}: " + (error or "requested, waiting for the hub to verify")
