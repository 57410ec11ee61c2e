"""Postman's dynamic variables (``{{$guid}}``, ``{{$timestamp}}``...): a fresh value per use.

Only consulted for names that start with ``$`` and are not defined in any scope, so Graph query keys
such as ``$select`` outside ``{{...}}`` are never touched (runner-facts §5).
"""

from __future__ import annotations

import random
import string
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["DYNAMIC_VARIABLES", "generate_dynamic_value"]

_FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia", "Edsger"]
_LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Perlman", "Dijkstra"]
_WORDS = ["alpha", "bravo", "delta", "echo", "gamma", "kilo", "lima", "omega", "sierra", "tango"]
_rng = random.SystemRandom()


def _letters(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


DYNAMIC_VARIABLES: dict[str, Callable[[], str]] = {
    "$guid": lambda: str(uuid.uuid4()),
    "$randomUUID": lambda: str(uuid.uuid4()),
    "$timestamp": lambda: str(int(time.time())),  # seconds, as Postman (not milliseconds)
    "$isoTimestamp": _iso_now,
    "$randomInt": lambda: str(_rng.randint(0, 1000)),
    "$randomAlphaNumeric": lambda: _letters(1, string.ascii_lowercase + string.digits),
    "$randomBoolean": lambda: _rng.choice(["true", "false"]),
    "$randomFirstName": lambda: _rng.choice(_FIRST),
    "$randomLastName": lambda: _rng.choice(_LAST),
    "$randomFullName": lambda: f"{_rng.choice(_FIRST)} {_rng.choice(_LAST)}",
    "$randomUserName": lambda: f"{_rng.choice(_FIRST)}.{_rng.choice(_LAST)}{_rng.randint(0, 99)}",
    "$randomEmail": lambda: f"{_rng.choice(_FIRST).lower()}.{_rng.choice(_LAST).lower()}@example.com",
    "$randomExampleEmail": lambda: f"{_rng.choice(_FIRST).lower()}{_rng.randint(0, 99)}@example.net",
    "$randomWord": lambda: _rng.choice(_WORDS),
    "$randomWords": lambda: " ".join(_rng.choice(_WORDS) for _ in range(3)),
    "$randomLoremWord": lambda: _rng.choice(_WORDS),
    "$randomLoremSentence": lambda: " ".join(_rng.choice(_WORDS) for _ in range(6)).capitalize() + ".",
    "$randomColor": lambda: _rng.choice(["red", "green", "blue", "orange", "purple"]),
    "$randomHexColor": lambda: "#" + _letters(6, "0123456789abcdef"),
    "$randomIP": lambda: ".".join(str(_rng.randint(1, 254)) for _ in range(4)),
    "$randomIPV6": lambda: ":".join(_letters(4, "0123456789abcdef") for _ in range(8)),
    "$randomPassword": lambda: _letters(15),
    "$randomPhoneNumber": lambda: f"{_rng.randint(200, 999)}-{_rng.randint(200, 999)}-{_rng.randint(1000, 9999)}",
    "$randomCity": lambda: _rng.choice(["Lisbon", "Oslo", "Osaka", "Quito", "Perth"]),
    "$randomCountry": lambda: _rng.choice(["Portugal", "Norway", "Japan", "Ecuador", "Australia"]),
    "$randomCompanyName": lambda: f"{_rng.choice(_LAST)} Ltd",
    "$randomUrl": lambda: f"https://{_rng.choice(_WORDS)}.example.com",
    "$randomDomainName": lambda: f"{_rng.choice(_WORDS)}.example.com",
    "$randomDateFuture": lambda: datetime.fromtimestamp(
        time.time() + _rng.randint(86400, 86400 * 365), UTC
    ).isoformat(),
    "$randomDatePast": lambda: datetime.fromtimestamp(time.time() - _rng.randint(86400, 86400 * 365), UTC).isoformat(),
}


def generate_dynamic_value(name: str) -> str | None:
    """A fresh value for ``$name``, or None when Postman has no such dynamic variable."""
    make = DYNAMIC_VARIABLES.get(name)
    return make() if make else None
