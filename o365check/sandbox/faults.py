"""Injected faults, in the manner of dev-proxy (reference §7): random failures per host with a
seed, a remembered throttle that answers an early retry with another 429, latency, and
"ambiguous" sendMail faults where the message is accepted but the answer is lost.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Faults", "FaultInjector", "ALLOWED_STATUSES", "GRAPH_FAULT_ERRORS", "IDENTITY_FAULT_ERRORS"]

ALLOWED_STATUSES = (429, 500, 502, 503, 504)
AmbiguousKind = Literal["reset", "timeout"]

# Graph-shaped bodies use real Graph codes (G-ERR), not dev-proxy's status names (§7 "Beat").
GRAPH_FAULT_ERRORS: dict[int, tuple[str, str]] = {
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An unspecified error has occurred."),
    502: ("UnknownError", "Bad gateway."),
    503: (
        "serviceNotAvailable",
        "The service is temporarily unavailable for maintenance or is "
        "overloaded. You may repeat the request after a delay, which may be specified in a "
        "Retry-After header.",
    ),
    504: ("UnknownError", "The gateway timed out."),
}
# AADSTS-shaped bodies: transient/throttling codes from ENTRA-ERR (reference §1.4 row 90055/90024/90033);
# which status ESTS pairs with each is [unverified].
IDENTITY_FAULT_ERRORS: dict[int, tuple[int, str, str]] = {
    429: (90055, "temporarily_unavailable", "There are too many incoming requests. Please try again later."),
    500: (90033, "server_error", "A transient error has occurred. Please try again."),
    502: (90033, "server_error", "A transient error has occurred. Please try again."),
    503: (90024, "temporarily_unavailable", "A transient error has occurred. Please try again."),
    504: (90033, "server_error", "A transient error has occurred. Please try again."),
}


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"Faults.{name} must be a fraction between 0 and 1, got {value!r}; e.g. 0.5 fails half the requests"
        )


@dataclass(frozen=True)
class Faults:
    """What to break, and how often.

    ``rate`` is the fraction (0..1) of requests to any Microsoft host that fail; ``host_rates``
    overrides it per host name (``{"graph.microsoft.com": 1.0}``). A failure answers with one of
    ``statuses``; a 429 carries ``Retry-After: retry_after`` and a client that retries before it
    elapsed is throttled again. ``latency_ms`` delays every answer by a random amount in that range.
    ``ambiguous_send`` ("reset" or "timeout") makes that fraction (``ambiguous_rate``) of accepted
    sendMail requests lose their answer after the message went into the outbox; over the loopback
    server "timeout" sleeps ``ambiguous_delay`` seconds before answering.
    """

    rate: float = 0.0
    host_rates: Mapping[str, float] = field(default_factory=dict)
    statuses: tuple[int, ...] = (429, 500, 503, 504)
    retry_after: int = 1
    seed: int | None = None
    latency_ms: tuple[int, int] = (0, 0)
    ambiguous_send: AmbiguousKind | None = None
    ambiguous_rate: float = 1.0
    ambiguous_delay: float = 5.0

    def __post_init__(self) -> None:
        _check_rate("rate", self.rate)
        _check_rate("ambiguous_rate", self.ambiguous_rate)
        for host, value in self.host_rates.items():
            _check_rate(f"host_rates[{host!r}]", value)
        bad = [s for s in self.statuses if s not in ALLOWED_STATUSES]
        if bad or not self.statuses:
            raise ValueError(f"Faults.statuses has {bad or 'nothing'}; use some of {list(ALLOWED_STATUSES)}")
        if self.retry_after < 0:
            raise ValueError(f"Faults.retry_after must be >= 0 seconds, got {self.retry_after!r}")
        low, high = self.latency_ms
        if not 0 <= low <= high:
            raise ValueError(f"Faults.latency_ms must be (min, max) with 0 <= min <= max, got {self.latency_ms!r}")
        if self.ambiguous_send not in (None, "reset", "timeout"):
            raise ValueError(f"Faults.ambiguous_send must be 'reset', 'timeout' or None, got {self.ambiguous_send!r}")

    def rate_for(self, host: str) -> float:
        return self.host_rates.get(host.lower(), self.rate)


class FaultInjector:
    """The mutable side of ``Faults``: a seeded RNG and the throttles it has handed out."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._throttled_until: dict[tuple[str, str], float] = {}

    def throttle_remaining(self, key: tuple[str, str], now: float) -> float | None:
        """Seconds left of an earlier 429 for ``key`` (dev-proxy RetryAfterPlugin), or None."""
        with self._lock:
            until = self._throttled_until.get(key)
            if until is None or now >= until:
                self._throttled_until.pop(key, None)
                return None
            return until - now

    def remember_throttle(self, key: tuple[str, str], until: float) -> None:
        with self._lock:
            self._throttled_until[key] = until

    def pick_failure(self, host: str) -> int | None:
        """The status to fail this request with, or None to let it through."""
        rate = self.faults.rate_for(host)
        if rate <= 0:
            return None
        with self._lock:
            if self._random.random() >= rate:
                return None
            return self._random.choice(self.faults.statuses)

    def pick_latency(self) -> float:
        low, high = self.faults.latency_ms
        if high <= 0:
            return 0.0
        with self._lock:
            return self._random.uniform(low, high) / 1000.0

    def pick_ambiguous(self) -> AmbiguousKind | None:
        """Whether this accepted sendMail loses its answer, and how."""
        kind = self.faults.ambiguous_send
        if kind is None:
            return None
        with self._lock:
            return kind if self._random.random() < self.faults.ambiguous_rate else None
