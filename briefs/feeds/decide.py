"""When to poll a feed next, and when to give up on it: pure functions, tested without I/O.

Like the update Decider of lemon24/reader: the poller hands over what it knows (the feed's
failure count, what the server answered, the time) and gets a ``Decision`` back. The clock
and the randomness come in as arguments, so every branch is a plain unit test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

# Retry-After is honoured above max_interval (the server asked), but not beyond this.
RETRY_AFTER_CAP = timedelta(days=7)
# Spread of the next poll time around the chosen interval, so feeds added together do not
# stay in lockstep and hosts do not see bursts.
JITTER = 0.1


@dataclass(frozen=True)
class Policy:
    """Polling bounds, from the [feeds] settings."""

    min_interval: timedelta = timedelta(minutes=15)
    default_interval: timedelta = timedelta(hours=1)
    max_interval: timedelta = timedelta(days=1)
    max_failures: int = 10


@dataclass(frozen=True)
class Answer:
    """What one fetch came to, as far as scheduling cares."""

    ok: bool  # a feed was fetched (200) or confirmed unchanged (304)
    status: int | None = None  # HTTP status, None when no answer came
    error: str | None = None  # one line, for the disabled reason
    retry_after: float | None = None  # seconds, from Retry-After
    max_age: float | None = None  # seconds, from Cache-Control


@dataclass(frozen=True)
class Decision:
    next_poll_at: datetime
    failures: int
    enabled: bool
    disabled_reason: str | None = None


def clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(high, value))


def backoff(failures: int, policy: Policy, rng: random.Random) -> timedelta:
    """Exponential backoff with "equal jitter": the k-th failure in a row waits between
    min_interval * 2**(k-1) and min_interval * 2**k, never more than max_interval."""
    exponent = min(max(failures, 1), 30)
    ceiling = min(policy.max_interval, policy.min_interval * (1 << exponent))
    half = ceiling / 2
    return half + half * rng.random()


def jittered(interval: timedelta, rng: random.Random) -> timedelta:
    """``interval`` moved by up to ±10 %, at random."""
    return interval * (1 + JITTER * (2 * rng.random() - 1))


def decide(
    now: datetime, failures_before: int, answer: Answer, policy: Policy, rng: random.Random
) -> Decision:
    """The feed's next poll time, failure count and whether it stays enabled."""
    if answer.retry_after is not None:
        # 429, 503 and friends: the server named its time; honour it (above min_interval).
        wait = clamp(timedelta(seconds=answer.retry_after), policy.min_interval, RETRY_AFTER_CAP)
    else:
        wait = None
    if answer.ok:
        if wait is None:
            wanted = (
                timedelta(seconds=answer.max_age)
                if answer.max_age is not None
                else policy.default_interval
            )
            wait = jittered(clamp(wanted, policy.min_interval, policy.max_interval), rng)
            wait = clamp(wait, policy.min_interval, policy.max_interval)
        return Decision(now + wait, 0, True)
    failures = failures_before + 1
    if wait is None:
        wait = clamp(backoff(failures, policy, rng), policy.min_interval, policy.max_interval)
    if answer.status == 410:
        reason = "the server says the feed is gone for good (HTTP 410 Gone)"
        return Decision(now + wait, failures, False, reason)
    if failures >= policy.max_failures:
        reason = f"{failures} failed polls in a row; the last: {answer.error or 'unknown error'}"
        return Decision(now + wait, failures, False, reason)
    return Decision(now + wait, failures, True)
