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
import html
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import IO, Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "MaskedStream",
    "RedactingFilter",
    "Redactor",
    "SECRET_NAMES",
    "escape_controls",
    "variants",
    "is_secret_name",
]

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

_JWT = re.compile(r"(?i:eyJ)[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*")
# A Bearer value looks like a credential: long, or holding a digit or punctuation. Plain words
# ("Request bearer overrides", a test name) stay readable.
_BEARER = re.compile(
    r"(?i)\b(bearer)\s+(?!\*{8})(?=[A-Za-z0-9._~+/=-]{20}|[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{6,}"
)
_BASIC = re.compile(r"(?i)\b(basic)\s+(?!\*{8})[A-Za-z0-9+/]{6,}={0,2}")
# key=value pairs in form bodies / query strings and "key": "value" in JSON, for names secret by nature.
# The value stops before backslashes that escape a closing quote: a form body echoed inside a JSON
# string (a report written through MaskedStream) keeps its \" (or \\\" one level deeper) and stays
# valid JSON; other backslashes (\\, \/) are part of the value and are masked with it.
_FORM_PAIR = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(client_secret|client_assertion|access_token|refresh_token|id_token|password)="
    r"((?:[^&\s\"'\\]|\\(?!\\*[\"']))+)"
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


def variants(value: str) -> set[str]:
    """The forms a secret takes on the wire and in files (matched case-insensitively, so the
    lower- and upper-case forms a host name or a header takes are covered too)."""
    forms = {value, quote_plus(value), quote(value, safe=""), quote(value, safe="/")}
    forms.add("".join(c if c.isalnum() else f"%{ord(c):02X}" for c in value))  # every punctuation encoded
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms.add(escaped)
        forms.add(escaped.replace("/", "\\/"))
    forms.add(html.escape(value, quote=True))  # JUnit/HTML reports
    forms.add(html.escape(value, quote=False))
    raw = value.encode("utf-8", "surrogatepass")
    forms.add(base64.b64encode(raw).decode().rstrip("="))  # a prefix of the padded form
    forms.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    for offset in (1, 2):  # inside a longer Base64 value (btoa("ab" + secret)): the other two alignments
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            middle = encode(b"\0" * offset + raw).decode().rstrip("=")[4:-4]  # the chars only the secret decides
            if len(middle) >= 8:
                forms.add(middle)
    return {f for f in forms if f}


# Values learned while running (a token per iteration, a variable a script sets) are kept in a
# bounded, least-recently-registered set so masking costs the same in iteration 10,000 as in the
# first (issue 9 item 6). The runner re-registers every secret a variable still holds before each
# item, so only values nothing holds any more can fall out; tokens are masked by shape anyway.
TRANSIENT_LIMIT = 64


class Redactor:
    """Masks registered secret values (in all their encodings) and secret-by-nature fields.

    >>> r = Redactor(["s3cr+t/x"])
    >>> r.text("client_secret=s3cr%2Bt%2Fx&scope=x")
    'client_secret=********&scope=x'
    """

    def __init__(self, secrets: Iterable[str | None] = (), *, min_length: int = 4):
        self._min_length = min_length
        self._values: set[str] = set()  # pinned for the Redactor's life
        self._transient: OrderedDict[str, None] = OrderedDict()
        self._forms: dict[str, int] = {}  # form -> how many registered values produce it
        self._ordered: list[tuple[str, re.Pattern[str]]] | None = None
        for s in secrets:
            self.add(s)

    def _accept(self, value: str | None) -> str | None:
        if value is None:
            return None
        value = str(value)
        if len(value) < self._min_length or value in self._values:
            return None
        return value

    def _count(self, value: str, step: int) -> None:
        for form in variants(value):
            left = self._forms.get(form, 0) + step
            if left > 0:
                self._forms[form] = left
            else:
                self._forms.pop(form, None)
        self._ordered = None

    def add(self, value: str | None, *, transient: bool = False) -> None:
        """Register one more secret value (short values are ignored: masking 'a' would mask everything).

        ``transient`` values (a token fetched each iteration) live in a bounded set; a value shaped
        like a JWT is not stored at all when transient, since the JWT pattern masks it anyway.
        """
        accepted = self._accept(value)
        if accepted is None:
            return
        if transient:
            if _JWT.fullmatch(accepted):
                return
            if accepted in self._transient:
                self._transient.move_to_end(accepted)
                return
            self._transient[accepted] = None
            self._count(accepted, +1)
            while len(self._transient) > TRANSIENT_LIMIT:
                dropped, _ = self._transient.popitem(last=False)
                self._count(dropped, -1)
            return
        if accepted in self._transient:
            del self._transient[accepted]
        else:
            self._count(accepted, +1)
        self._values.add(accepted)

    def add_basic(self, user: str, password: str) -> None:
        """Register the Base64 form ``user:password`` takes in a Basic ``Authorization`` header."""
        if password:
            self.add(base64.b64encode(f"{user}:{password}".encode("utf-8", "surrogatepass")).decode())

    def __contains__(self, value: object) -> bool:
        return value in self._values or value in self._transient

    def __repr__(self) -> str:
        return f"Redactor({len(self._values) + len(self._transient)} secrets)"

    @property
    def longest_form(self) -> int:
        """Length of the longest registered form (how much of a stream must be held back)."""
        patterns = self._patterns()
        return len(patterns[0][0]) if patterns else 0

    def _patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        if self._ordered is None:
            forms = sorted(self._forms, key=len, reverse=True)  # longest first: a form inside another
            self._ordered = [(f.lower(), re.compile(re.escape(f), re.IGNORECASE)) for f in forms]
        return self._ordered

    def text(self, text: str) -> str:
        """Mask every registered secret, token, Bearer/Basic credential and secret form field in ``text``."""
        if not text:
            return text
        patterns = self._patterns()
        if patterns:
            lowered = text.lower()
            for form, pattern in patterns:
                if form in lowered:  # a fast substring test first; the regex only where it can match
                    text = pattern.sub(MASK, text)
                    lowered = text.lower()
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
    show a secret or a token. A traceback attached to the record is formatted and masked here too
    (the formatter would otherwise print the exception's text as it is).
    """

    def __init__(self, redactor: Redactor):
        self.redactor = redactor

    def filter(self, record: Any) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string in someone's log call: keep the raw text
            message = str(record.msg)
        record.msg, record.args = escape_controls(self.redactor.text(message)), None
        if record.exc_info:
            import traceback

            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        return True


# C0 and C1 control characters and the invisible formatting ones (bidi overrides, zero-width...),
# except newline and tab; the console reporter's own colours (SGR) and a carriage return that
# starts a write (its progress bar) are the only escapes a terminal may receive.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_OWN_SGR = re.compile("\x1b\\[(?:0|1|2|31|32|33|90|1;31|1;32|1;33)m")


def escape_controls(text: str, *, keep_colours: bool = False) -> str:
    """``text`` with control characters shown as ``\\x1b``/``\\u202e`` instead of acting on the terminal."""
    if keep_colours:
        parts = _OWN_SGR.split(text)
        colours = _OWN_SGR.findall(text)
        out = [escape_controls(parts[0])]
        for colour, part in zip(colours, parts[1:], strict=True):
            out += [colour, escape_controls(part)]
        return "".join(out)
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class MaskedStream:
    """A text stream that masks every registered secret on its way to ``target``.

    The reports are written through it, so whatever a reporter writes (an error message, a script's
    console line, an echoed body) is masked once more at the last moment. A secret split across two
    ``write`` calls is still caught: the last characters of each write (as many as the longest
    secret form) are held back until the next write, ``flush`` or ``close``. With ``console=True``,
    control characters are escaped too (ANSI escapes from a script never reach the terminal).
    """

    def __init__(self, target: IO[str], redactor: Redactor, *, console: bool = False, hold: int = 256):
        self.target, self.redactor, self.console, self._hold = target, redactor, console, hold
        self._pending = ""

    def write(self, text: str) -> int:
        # A lone surrogate (from a file or a script) cannot be encoded; written as its JSON escape.
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        if self.console:
            lead = "\r" if text.startswith("\r") else ""
            text = lead + escape_controls(text[len(lead) :], keep_colours=True)
        buffered = self.redactor.text(self._pending + text)
        keep = min(len(buffered), max(self._hold, self.redactor.longest_form))
        cut = len(buffered) - keep
        while cut > 0 and buffered[cut - 1 : cut + 1] == "**":  # never cut through a mask
            cut -= 1
        self._pending = buffered[cut:]
        if cut:
            self.target.write(buffered[:cut])
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.target.write(self._pending)
            self._pending = ""
        self.target.flush()

    def close(self) -> None:
        self.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.target, "isatty", lambda: False)())

    def writable(self) -> bool:
        return True
