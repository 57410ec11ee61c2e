"""Find anything secret-looking in a cassette (or any text file) before it is shared or committed.

What counts: a JWT; a ``Bearer``/``Basic`` credential other than the placeholder; a
``client_secret`` / ``client_assertion`` / token field whose value is not the placeholder; a
cookie; and any canary value given (in every encoding ``redact.Redactor`` knows). Placeholders
are those of ``recording.py``. Each finding names the file, the line and what was found, never
the value itself.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import CassetteError
from .recording import REDACTED
from .redact import MASK, variants
from .user_files import UserFileError, read_user_bytes

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
    """Every secret-looking value in the file at ``path``. Raises CassetteError if it cannot be read.

    The file is searched as text, line by line, and, when it is YAML (a vcrpy cassette), also
    value by value after decoding: YAML folds long strings across lines, escapes characters and
    stores non-UTF-8 bodies as ``!!binary`` Base64, and a secret must not hide in any of those.
    Canary values are found in every encoding ``redact.Redactor`` masks, in any letter case.
    """
    try:
        data = read_user_bytes(path, "cassette")
        text = data.decode("utf-8")
    except UserFileError as exc:
        raise CassetteError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise CassetteError(f"cannot read cassette {str(path)!r} (not UTF-8 at byte {exc.start})") from None

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    found = {(line_of(m.start()), what) for what, rule in _RULES for m in rule.finditer(text)}
    forms = {form.lower() for canary in filter(None, canaries) for form in _encodings(canary)}
    if forms:
        found |= {
            (number, "the canary value")
            for number, line in enumerate(text.splitlines(), 1)
            if any(f in line.lower() for f in forms)
        }
    for line, value in _yaml_values(text):
        found |= {(line, what) for what, rule in _RULES if rule.search(value)}
        if any(f in value.lower() for f in forms):
            found.add((line, "the canary value"))
    return [Finding(str(path), number, what) for number, what in sorted(found)]


def _yaml_values(text: str) -> list[tuple[int, str]]:
    """(line, decoded text) of every scalar of a YAML document; [] when the text is not YAML."""
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: fast
    except (yaml.YAMLError, RecursionError, ValueError):
        return []
    out: list[tuple[int, str]] = []
    stack = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # YAML aliases can make a graph
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            value = str(node.value)
            if node.tag == "tag:yaml.org,2002:binary":
                try:
                    value = base64.b64decode("".join(value.split())).decode("utf-8", "replace")
                except (ValueError, binascii.Error):
                    pass
            out.append((node.start_mark.line + 1, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
    return out


def _encodings(value: str) -> set[str]:
    """The forms a value takes in a cassette: every form the masker knows (raw, percent-encoded
    both ways, JSON-escaped, HTML-escaped, Base64), plus percent-encoding with ``~`` encoded."""
    from urllib.parse import quote

    return variants(value) | {quote(value, safe="").replace("~", "%7E")}
