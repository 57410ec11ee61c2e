"""Postman's dynamic variables (``{{$guid}}``, ``{{$timestamp}}``...): a fresh value per use.

Only consulted for names that start with ``$`` and are not defined in any scope, so Graph query keys
such as ``$select`` outside ``{{...}}`` are never touched (runner-facts §5).

Each variable is a recipe: a template whose ``{fields}`` a few generators fill. The table is the
one source for both languages: requests resolve it here, and scripts' ``pm.variables.replaceIn``
reads the same table (``scripts.py`` hands it to ``pm.js`` when an engine starts), so a name known
in a URL is known in a script too (issue 14 item 2). A field is ``{kind}``, ``{kind:n}`` or
``{kind:a:b}``, optionally ``|lower`` or ``|title``; kinds: ``uuid``, ``unix`` (seconds, as
Postman), ``iso`` (now), ``date:a:b`` (a random day a..b days from now), ``int:a:b``, ``bool``,
``alnum:n``, ``letters:n``, ``hex:n``, and the word lists below.
"""

from __future__ import annotations

import random
import re
import string
import time
import uuid
from datetime import UTC, datetime

__all__ = ["DYNAMIC_VARIABLES", "FIELD_PATTERN", "WORD_LISTS", "generate_dynamic_value"]

WORD_LISTS: dict[str, list[str]] = {
    "first": ["Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia", "Edsger"],
    "last": ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Perlman"],
    "word": ["alpha", "bravo", "delta", "echo", "gamma", "kilo", "lima", "omega", "sierra", "tango"],
    "color": ["red", "green", "blue", "orange", "purple"],
    "city": ["Lisbon", "Oslo", "Osaka", "Quito", "Perth"],
    "country": ["Portugal", "Norway", "Japan", "Ecuador", "Australia"],
}

DYNAMIC_VARIABLES: dict[str, str] = {
    "$guid": "{uuid}",
    "$randomUUID": "{uuid}",
    "$timestamp": "{unix}",
    "$isoTimestamp": "{iso}",
    "$randomInt": "{int:0:1000}",
    "$randomAlphaNumeric": "{alnum:1}",
    "$randomBoolean": "{bool}",
    "$randomFirstName": "{first}",
    "$randomLastName": "{last}",
    "$randomFullName": "{first} {last}",
    "$randomUserName": "{first}.{last}{int:0:99}",
    "$randomEmail": "{first|lower}.{last|lower}@example.com",
    "$randomExampleEmail": "{first|lower}{int:0:99}@example.net",
    "$randomWord": "{word}",
    "$randomWords": "{word} {word} {word}",
    "$randomLoremWord": "{word}",
    "$randomLoremSentence": "{word|title} {word} {word} {word} {word} {word}.",
    "$randomColor": "{color}",
    "$randomHexColor": "#{hex:6}",
    "$randomIP": "{int:1:254}.{int:1:254}.{int:1:254}.{int:1:254}",
    "$randomIPV6": "{hex:4}:{hex:4}:{hex:4}:{hex:4}:{hex:4}:{hex:4}:{hex:4}:{hex:4}",
    "$randomPassword": "{letters:15}",
    "$randomPhoneNumber": "{int:200:999}-{int:200:999}-{int:1000:9999}",
    "$randomCity": "{city}",
    "$randomCountry": "{country}",
    "$randomCompanyName": "{last} Ltd",
    "$randomUrl": "https://{word}.example.com",
    "$randomDomainName": "{word}.example.com",
    "$randomDateFuture": "{date:1:365}",
    "$randomDatePast": "{date:-365:-1}",
}

# The field syntax, shared with pm.js (which compiles the same source).
FIELD_PATTERN = r"\{([a-z]+)(?::(-?\d+))?(?::(-?\d+))?(?:\|(lower|title))?\}"
_FIELD = re.compile(FIELD_PATTERN)
_rng = random.SystemRandom()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fill(match: re.Match[str]) -> str:
    kind, a, b, case = match.group(1), match.group(2), match.group(3), match.group(4)
    if kind in WORD_LISTS:
        value = _rng.choice(WORD_LISTS[kind])
    elif kind == "uuid":
        value = str(uuid.uuid4())
    elif kind == "unix":
        value = str(int(time.time()))
    elif kind == "iso":
        value = _iso(time.time())
    elif kind == "date":
        value = _iso(time.time() + _rng.randint(int(a), int(b)) * 86400)
    elif kind == "int":
        value = str(_rng.randint(int(a), int(b)))
    elif kind == "bool":
        value = _rng.choice(["true", "false"])
    else:
        alphabet = {"alnum": string.ascii_lowercase + string.digits, "hex": "0123456789abcdef"}
        value = "".join(_rng.choice(alphabet.get(kind, string.ascii_letters + string.digits)) for _ in range(int(a)))
    return value.lower() if case == "lower" else value.capitalize() if case == "title" else value


def generate_dynamic_value(name: str) -> str | None:
    """A fresh value for ``$name``, or None when Postman has no such dynamic variable."""
    recipe = DYNAMIC_VARIABLES.get(name)
    return _FIELD.sub(_fill, recipe) if recipe is not None else None
