"""Find anything secret-looking in a cassette (or any text file) before it is shared or committed.

What counts: a JWT; a ``Bearer``/``Basic`` credential other than the placeholder; a
``client_secret`` / ``client_assertion`` / token field whose value is not the placeholder; a
cookie; and any canary value given (in every encoding ``redact.Redactor`` knows). Placeholders
are those of ``recording.py``. Each finding names the file, the line and what was found, never
the value itself.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CassetteError
from .recording import REDACTED
from .redact import MASK

__all__ = ["Finding", "find_secrets"]

_PLACEHOLDER = rf"(?:{re.escape(REDACTED)}(?:\.[A-Za-z0-9_-]+)?|{re.escape(MASK)})"
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a JWT", re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")),
    (
        "a Bearer credential",
        re.compile(rf"(?i)\bbearer\s+(?!realm=)(?!{_PLACEHOLDER}(?![A-Za-z0-9._~+/=-]))[A-Za-z0-9._~+/=-]{{6,}}"),
    ),
    ("a Basic credential", re.compile(rf"(?i)\bbasic\s+(?!{_PLACEHOLDER}(?![A-Za-z0-9+/=]))[A-Za-z0-9+/]{{6,}}=*")),
    (
        "a secret form field",
        re.compile(
            rf"(?i)(?<![A-Za-z0-9_])(?:client_secret|client_assertion|access_token|refresh_token|id_token)=(?!{_PLACEHOLDER}(?:[&\s'\"]|$))[^&\s'\"]+"
        ),
    ),
    (
        "a secret JSON field",
        re.compile(
            rf'(?i)\\?"(?:client_secret|client_assertion|access_token|refresh_token|id_token)\\?"\s*:\s*\\?"(?!{_PLACEHOLDER}\\?")[^"\\]+'
        ),
    ),
    ("a cookie", re.compile(r"(?im)^\s*-?\s*(?:set-)?cookie:\s*(?:\n\s*-\s*)?\S")),
)


@dataclass(frozen=True)
class Finding:
    """One secret-looking thing: where (file and line) and what, never the value."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def find_secrets(path: str | Path, canaries: tuple[str, ...] = ()) -> list[Finding]:
    """Every secret-looking value in the file at ``path``. Raises CassetteError if it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteError(
            f"cannot read cassette {str(path)!r} ({getattr(exc, 'strerror', None) or type(exc).__name__})"
        ) from None

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    found = {(line_of(m.start()), what) for what, rule in _RULES for m in rule.finditer(text)}
    for canary in filter(None, canaries):
        forms = _encodings(canary)
        found |= {
            (number, "the canary value")
            for number, line in enumerate(text.splitlines(), 1)
            if any(f in line for f in forms)
        }
    return [Finding(str(path), number, what) for number, what in sorted(found)]


def _encodings(value: str) -> set[str]:
    """The forms a value takes in a cassette: raw, percent-encoded (both ways), JSON-escaped, Base64."""
    from urllib.parse import quote, quote_plus

    every = "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in value)
    return {
        value,
        quote_plus(value),
        quote(value, safe=""),
        quote(value, safe="").replace("~", "%7E"),
        every,
        json.dumps(value)[1:-1],
        base64.b64encode(value.encode()).decode().rstrip("="),
    }
