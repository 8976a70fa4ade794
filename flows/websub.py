"""WebSub subscriber, the pure part: subscription records and their state machine, intent verification,
content-distribution checks (HMAC signature, size cap). No sockets here (flows.websub_client sends the
hub requests, flows.watch_server answers the hub); `now` and random numbers come from the caller.

Following the W3C WebSub recommendation and Feedbin's subscriber: one secret per subscription; intent
verification is answered only for a (mode, topic) we asked for on that subscription's own callback path;
content is accepted only with a valid `X-Hub-Signature` (sha256/384/512; sha1 only when `allow_sha1`),
compared in constant time; a subscription is renewed at half its lease (with jitter); when the lease lapses
or the hub misses entries that a poll finds, the feed falls back to its polling schedule.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from core.records import Subscription
from core.settings import WebSubSettings

PushRejection = Literal["unknown_callback", "no_signature", "bad_signature", "weak_signature", "too_large"]
SIGNATURE_METHODS: dict[str, str] = {"sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_MAX_LEASE_JITTER = 0.1  # renew at 50 % of the lease -/+ 10 % of it


@dataclass(frozen=True)
class Answer:
    """What the callback answers the hub, and the subscription afterwards (None: unchanged/unknown)."""

    status: int
    body: bytes
    subscription: Subscription | None


def new_subscription(feed_url: str, topic: str, hub: str, now: datetime) -> Subscription:
    """A fresh subscription request: new secret (64 hex chars, < the spec's 200 bytes) and callback path."""
    return Subscription(
        feed_url=feed_url,
        topic=topic,
        hub=hub,
        callback_id=secrets.token_urlsafe(18),
        secret=secrets.token_hex(32),
        state="requested",
        intent="subscribe",
        requested_at=now,
    )


def renewal(sub: Subscription, now: datetime) -> Subscription:
    """Ask again for the same subscription: same callback and secret (the hub may still sign with the old
    secret until it has verified a new one, so rotating it would reject good pushes)."""
    return replace(sub, intent="subscribe", requested_at=now, error=None)


def unsubscribing(sub: Subscription, now: datetime) -> Subscription:
    return replace(sub, state="unsubscribing", intent="unsubscribe", requested_at=now)


def callback_url(base: str, sub: Subscription) -> str:
    return f"{base.rstrip('/')}/{sub.callback_id}"


def verify_intent(sub: Subscription | None, params: dict[str, str], now: datetime, unit_random: float) -> Answer:
    """The hub's GET to the callback. Echo `hub.challenge` only when mode and topic match what we asked."""
    if sub is None:
        return Answer(404, b"unknown subscription", None)
    mode = params.get("hub.mode", "")
    topic = params.get("hub.topic", "")
    if topic != sub.topic:
        return Answer(404, b"topic does not match this subscription", None)
    if mode == "denied":
        reason = params.get("hub.reason", "no reason given")[:300]
        return Answer(200, b"", replace(sub, state="denied", error=f"hub denied the subscription: {reason}"))
    challenge = params.get("hub.challenge", "")
    if mode != sub.intent or not challenge:
        return Answer(404, b"no such pending request", None)
    if mode == "unsubscribe":
        return Answer(200, challenge.encode(), replace(sub, state="expired", expires_at=now, renew_at=None))
    return Answer(200, challenge.encode(), activated(sub, params.get("hub.lease_seconds"), now, unit_random))


def activated(sub: Subscription, lease_text: str | None, now: datetime, unit_random: float) -> Subscription:
    """Active from now; renew at half the lease, +/- 10 % of it. No lease given: treat as the default."""
    try:
        lease = int(lease_text) if lease_text else None
    except ValueError:
        lease = None
    lease = lease if lease and lease > 0 else 86400
    jitter = _MAX_LEASE_JITTER * (2.0 * unit_random - 1.0)
    renew = now + timedelta(seconds=lease * (0.5 + jitter))
    return replace(
        sub,
        state="active",
        lease_seconds=lease,
        verified_at=now,
        expires_at=now + timedelta(seconds=lease),
        renew_at=renew,
        missed_at=None,
        error=None,
    )


def signature_ok(secret: str, header: str | None, body: bytes, allow_sha1: bool) -> PushRejection | None:
    """None when `X-Hub-Signature: method=hexdigest` is a valid HMAC of the body under `secret`."""
    if not header or "=" not in header:
        return "no_signature"
    method, _, digest = header.strip().partition("=")
    algorithm = SIGNATURE_METHODS.get(method.strip().lower())
    if algorithm is None:
        return "bad_signature"
    if algorithm == "sha1" and not allow_sha1:
        return "weak_signature"
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return None if hmac.compare_digest(expected, digest.strip().lower()) else "bad_signature"


def push_verdict(
    sub: Subscription | None, signature: str | None, body: bytes, settings: WebSubSettings
) -> PushRejection | None:
    """None when a content distribution may enter the pipeline."""
    if sub is None or sub.state != "active":
        return "unknown_callback"
    if len(body) > settings.max_body_bytes:
        return "too_large"
    return signature_ok(sub.secret, signature, body, settings.allow_sha1)


def push_status(rejection: PushRejection | None) -> int:
    """Accepted: 202. Unknown callback: 410 Gone (the hub drops it). Too large: 413. A bad signature is
    acknowledged (202, as the spec allows, to give no oracle) and ignored."""
    return {None: 202, "unknown_callback": 410, "too_large": 413}.get(rejection, 202)


def is_pushing(sub: Subscription | None, now: datetime, settings: WebSubSettings) -> bool:
    """Does the hub deliver this feed, so that polling may drop to a safety poll?"""
    if sub is None or sub.state != "active" or sub.expires_at is None or sub.expires_at <= now:
        return False
    if sub.missed_at is not None and (sub.last_push_at is None or sub.missed_at > sub.last_push_at):
        return False
    heard = max(filter(None, (sub.last_push_at, sub.verified_at)), default=None)
    return heard is not None and (now - heard).total_seconds() <= settings.quiet_seconds


SubscriptionAction = Literal["subscribe", "renew", "unsubscribe", "expire", "retry"]


def due_action(sub: Subscription, wanted: bool, now: datetime, settings: WebSubSettings) -> SubscriptionAction | None:
    """What to do about a stored subscription now: `wanted` is whether its topic is still configured."""
    if not wanted:
        return "unsubscribe" if sub.state in ("active", "requested") else None
    if sub.state == "active" and sub.expires_at is not None and sub.expires_at <= now:
        return "expire"
    if sub.state == "active" and sub.renew_at is not None and sub.renew_at <= now:
        return "renew"
    waited = (now - sub.requested_at).total_seconds()
    if sub.state in ("denied", "failed", "expired") and waited >= settings.retry_seconds:
        return "retry"
    if sub.state == "requested" and waited >= settings.retry_seconds:
        return "retry"  # the hub never verified: ask again
    return None


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The header value a hub sends (used by the test hub and by benchmarks)."""
    return f"{method}={hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()}"
