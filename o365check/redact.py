"""The one place that knows what is secret, and masks it everywhere.

A secret is masked by value in every form it travels in: raw, URL-encoded (form bodies and query
strings), JSON-escaped, and inside Base64 Basic-auth credentials. Values under names that are
secret by nature (``Authorization``, ``client_secret``, ``client_assertion``, ``access_token``...)
are masked by name even when their value was never registered. Bearer tokens and anything shaped
like a JWT are masked by pattern, so a token o365check never saw (a stored ``accessToken`` in a
collection, say) cannot slip through either.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "RedactingFilter", "Redactor", "SECRET_NAMES", "is_secret_name"]

MASK = "********"

# Names whose values are secret whatever they hold (matched case-insensitively, ignoring - and _).
SECRET_NAMES = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "clientsecret",
        "clientassertion",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "password",
        "secret",
        "apikey",
        "token",
        "cookie",
        "setcookie",
        "privatekey",
        "certificatepassword",
        "sharedkey",
        "sig",
        "signature",
        "apptoken",
        "bearertoken",
    }
)
# Names that look like secrets: *secret*, *password*, *token* (not *token_type*/*tokenurl*), *apikey*.
_SECRETISH = re.compile(
    r"(secret|passw|pwd|apikey|api_key|private_?key|(?<!_)token(?!_?(type|url|name|endpoint|uri)))", re.I
)

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*")
# A Bearer value looks like a credential: long, or holding a digit or punctuation. Plain words
# ("Request bearer overrides", a test name) stay readable.
_BEARER = re.compile(
    r"(?i)\b(bearer)\s+(?!\*{8})(?=[A-Za-z0-9._~+/=-]{20}|[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{6,}"
)
_BASIC = re.compile(r"(?i)\b(basic)\s+(?!\*{8})[A-Za-z0-9+/]{6,}={0,2}")
# key=value pairs in form bodies / query strings and "key": "value" in JSON, for names secret by nature.
_FORM_PAIR = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(client_secret|client_assertion|access_token|refresh_token|id_token|password)=([^&\s\"']+)"
)
_JSON_PAIR = re.compile(
    r'(?i)("(?:client_secret|client_assertion|access_token|refresh_token|id_token|password|accesstoken|clientsecret)"\s*:\s*")((?:[^"\\]|\\.)*)(")'
)


def _squash(name: str) -> str:
    return re.sub(r"[-_\s.]", "", name).lower()


def is_secret_name(name: str) -> bool:
    """True for names like ``client_secret``, ``Authorization``, ``AppAccessToken``, ``api-key``."""
    squashed = _squash(name)
    return squashed in SECRET_NAMES or bool(_SECRETISH.search(name))


def _variants(value: str) -> set[str]:
    """The forms a secret takes on the wire and in files."""
    forms = {value, quote_plus(value), quote(value, safe=""), quote(value, safe="/")}
    escaped = json.dumps(value)[1:-1]
    forms.add(escaped)
    forms.add(escaped.replace("/", "\\/"))
    return {f for f in forms if f}


class Redactor:
    """Masks registered secret values (in all their encodings) and secret-by-nature fields.

    >>> r = Redactor(["s3cr+t/x"])
    >>> r.text("client_secret=s3cr%2Bt%2Fx&scope=x")
    'client_secret=********&scope=x'
    """

    def __init__(self, secrets: Iterable[str | None] = (), *, min_length: int = 4):
        self._min_length = min_length
        self._values: set[str] = set()
        self._forms: list[str] = []
        for s in secrets:
            self.add(s)

    def add(self, value: str | None) -> None:
        """Register one more secret value (short values are ignored: masking 'a' would mask everything)."""
        if value is None:
            return
        value = str(value)
        if len(value) < self._min_length or value in self._values:
            return
        self._values.add(value)
        self._forms = sorted(set(self._forms) | _variants(value), key=len, reverse=True)

    def add_basic(self, user: str, password: str) -> None:
        """Register the Base64 form ``user:password`` takes in a Basic ``Authorization`` header."""
        if password:
            self.add(base64.b64encode(f"{user}:{password}".encode()).decode())

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} secrets)"

    def text(self, text: str) -> str:
        """Mask every registered secret, token, Bearer/Basic credential and secret form field in ``text``."""
        if not text:
            return text
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        text = _JWT.sub(MASK, text)
        text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
        text = _BASIC.sub(lambda m: f"{m.group(1)} {MASK}", text)
        text = _FORM_PAIR.sub(lambda m: f"{m.group(1)}={MASK}", text)
        text = _JSON_PAIR.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
        return text

    def value(self, name: str, value: Any) -> Any:
        """Mask ``value`` if ``name`` is secret by nature, else mask what it contains."""
        if is_secret_name(name) and value not in (None, ""):
            if isinstance(value, str) and _squash(name) == "authorization":
                scheme = value.split(" ", 1)[0] if " " in value else ""
                return f"{scheme} {MASK}".strip()
            return MASK
        return self.data(value)

    def data(self, obj: Any) -> Any:
        """Deep copy of a JSON-like structure with secrets masked by name and by value.

        Postman-style ``{"key": ..., "value": ...}`` pairs are masked when the key is secret by
        nature or the entry says ``"type": "secret"``.
        """
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, Mapping):
            key = obj.get("key") if isinstance(obj.get("key"), str) else None
            if key is not None and "value" in obj:
                secret = obj.get("type") == "secret" or is_secret_name(key)
                out = {k: self.data(v) for k, v in obj.items() if k != "value"}
                out["value"] = MASK if secret and obj["value"] not in (None, "") else self.value(key, obj["value"])
                return {k: out[k] for k in obj}  # keep the original key order
            return {k: self.value(str(k), v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.data(v) for v in obj]
        return obj


class RedactingFilter:
    """A logging filter that masks secrets in every record that passes through a handler.

    Installed on the CLI's log handler, so debug logs of o365check, MSAL, requests and urllib3 never
    show a secret or a token.
    """

    def __init__(self, redactor: Redactor):
        self.redactor = redactor

    def filter(self, record: Any) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string in someone's log call: keep the raw text
            message = str(record.msg)
        record.msg, record.args = self.redactor.text(message), None
        return True
