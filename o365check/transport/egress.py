"""The egress rule: a secret leaves only for its identity host, over TLS; checked on the wire bytes.

:class:`Egress` holds the run's secrets (name -> value) and the hosts the user allowed. Its
:meth:`Egress.check` is called by the transport adapter with the *prepared* request, once per
hop (redirects and digest retries included), after every script has run: the method, URL, every
header name and value and the body are searched for every secret, and the destination is read
with urllib3's ``parse_url`` (the parser the connection pool uses, so there is no second parser
to disagree with).

A secret is found in any of these forms (case-insensitively; host names are lower-cased on the
wire): raw, URL-encoded (any percent-encoding: the request is also searched percent-decoded),
JSON-escaped (``\\uXXXX`` escapes decoded too), Base64 / Base64url at any alignment (so
``btoa("x" + secret)`` and ``Basic base64(user:secret)`` are found), and, for secrets of at
least 16 characters, any quarter-length fragment (at least 8 characters) of the value, so a
secret split across headers or requests is still recognised.

While the runner sends a request built by a script that may read a secret, ``tainted_by`` names
that secret, and the request is held to the secret's destinations even when no known form of it
is found (postman/secret_routing.py has the rule for scripts).

Destinations that may receive a secret: a Microsoft identity host over ``https``; a loopback
address (the sandbox, ``o365check sandbox serve``); a host named with ``--allow-secret-to``.
Through a proxy, a request to an ``https`` URL is a CONNECT tunnel (the proxy sees only the host
name and port; TLS stays end to end and is verified), so it is judged by its destination alone;
a request to an ``http`` URL is readable by the proxy, so the proxy itself must be allowed too.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, unquote_plus

import requests
from requests.utils import select_proxy
from urllib3.util import parse_url

from ..clouds import IDENTITY_HOSTS
from ..errors import SecretRoutingError, UsageError
from ..redact import MASK, variants

__all__ = ["Egress", "host_of", "is_loopback_host"]

_MIN_SECRET_LENGTH = 4  # as the Redactor: masking "ab" would mask everything
_FRAGMENT_MIN_SECRET = 16
_JSON_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})")
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def host_of(url: str) -> str:
    """The host the connection will use (urllib3's parser), lower-cased, IPv6 without brackets."""
    try:
        host = parse_url(url).host or ""
    except Exception:  # urllib3's LocationParseError and friends: no usable host
        return ""
    return host.lower().strip("[]")


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP literal (127.0.0.0/8, ::1); other spellings are not trusted."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base64_forms(value: bytes) -> set[bytes]:
    """Substrings that Base64 (standard and URL-safe) of any text containing ``value`` must contain.

    Encoding works on 3-byte groups, so ``value`` starts at one of three alignments; for each,
    the characters that depend only on ``value`` are kept (the first and last group may mix in
    neighbouring bytes and are dropped).
    """
    forms: set[bytes] = set()
    for lead in range(3):
        encoded = base64.b64encode(b"\0" * lead + value)
        start = (lead * 8 + 5) // 6 if lead else 0  # first character not touched by the lead bytes
        usable = (len(value) + lead) // 3 * 4  # characters of complete groups only
        core = encoded[start:usable]
        if len(core) >= 6:
            forms.add(core)
            forms.add(core.translate(bytes.maketrans(b"+/", b"-_")))
    return forms


def _decoded_runs(data: bytes, shortest: int) -> list[bytes]:
    """Every Base64-looking run of ``data`` at least ``shortest`` long, decoded (both alphabets)."""
    out = []
    for match in re.finditer(rb"[A-Za-z0-9+/_-]{%d,}" % shortest, data):  # re caches the compiled form
        run = match.group(0)
        if len(set(run[:64])) < 4:  # filler such as "xxxxxxxx", not an encoding
            continue
        run = run[: len(run) - len(run) % 4] if len(run) % 4 == 1 else run
        padded = run + b"=" * (-len(run) % 4)
        for text in (padded, padded.translate(_URLSAFE_TO_STANDARD)):
            try:
                out.append(binascii.a2b_base64(text))
            except (binascii.Error, ValueError):
                pass
    return out


class Egress:
    """The secrets of a session and the rule that says where each may go."""

    def __init__(self, allow_hosts: Iterable[str] = (), *, replaying: bool = False):
        # A replay sends nothing (the cassette answers, no socket is opened) and its "secrets" are
        # the cassette's stand-ins: nothing to enforce. The recording run was checked.
        self.replaying = replaying
        # Set by the runner while a script that may read a secret (or its item's request) is sent:
        # such a request goes only where that secret may go, found in it or not.
        self.tainted_by: str | None = None
        self.allow_hosts: set[str] = set()
        self.allow(allow_hosts)
        self._names: dict[str, str] = {}  # value -> variable name
        self._patterns: list[tuple[str, bytes, bool]] = []  # (name, lower-cased form, is_fragment)
        self._shortest_run = 1 << 30  # a Base64 run shorter than this cannot hold the shortest secret whole

    def __repr__(self) -> str:  # never the values
        return f"Egress({len(self._names)} secrets, allowed hosts {sorted(self.allow_hosts)})"

    def allow(self, hosts: Iterable[str]) -> None:
        """Let these hosts (``--allow-secret-to``) receive secrets."""
        self.allow_hosts |= {h.strip().lower().rstrip(".") for h in hosts if h and h.strip()}

    @property
    def has_secrets(self) -> bool:
        return bool(self._names)

    def register(self, name: str, value: object) -> None:
        """Remember ``value`` as the secret held by variable ``name`` (short values are ignored)."""
        text = "" if value is None else str(value)
        if len(text) < _MIN_SECRET_LENGTH or text in self._names:
            return
        self._names[text] = name
        raw = text.encode("utf-8", "surrogatepass")
        self._shortest_run = min(self._shortest_run, max(8, len(raw) * 4 // 3))
        forms = {f.encode("utf-8", "surrogatepass") for f in variants(text)} | {raw} | _base64_forms(raw)
        self._patterns += [(name, f.lower(), False) for f in forms if f]
        if len(raw) >= _FRAGMENT_MIN_SECRET:
            width = max(8, len(raw) // 4)
            windows = {raw[i : i + width].lower() for i in range(len(raw) - width + 1)}
            # Only varied windows: "xxxxxxxx" or "00000000" also occur in innocent traffic.
            self._patterns += [(name, w, True) for w in windows if len(set(w)) >= 6]

    def register_all(self, values: Mapping[str, object]) -> None:
        for name, value in values.items():
            self.register(name, value)

    def may_receive_secrets(self, scheme: str, host: str) -> bool:
        """True for loopback, allowed hosts, and identity hosts over https."""
        if host in self.allow_hosts or is_loopback_host(host):
            return True
        return scheme == "https" and host in IDENTITY_HOSTS

    # -- the check -------------------------------------------------------------------------
    def find_secret(self, request: requests.PreparedRequest) -> str | None:
        """The name of a secret the request carries (in any form we know), or None."""
        if not self._patterns:
            return None
        texts, decoded = self._haystacks(request)
        # One joined text, one search per form (no form holds the separator: secrets are text).
        # Fragments are looked for in the text and its percent/JSON decodings, whole forms also
        # inside every Base64 run decoded.
        plain = b"\0\n\0".join(texts)
        everything = b"\0\n\0".join([plain, *decoded])
        for name, form, fragment in self._patterns:
            if form in (plain if fragment else everything):
                return name
        return None

    def _haystacks(self, request: requests.PreparedRequest) -> tuple[list[bytes], list[bytes]]:
        head = [_body_bytes(request.method), _body_bytes(request.url)]
        head += [_body_bytes(k) + b": " + _body_bytes(v) for k, v in (request.headers or {}).items()]
        raw = b"\n".join(head) + b"\n" + _body_bytes(request.body)
        texts = [raw]
        if b"%" in raw or b"+" in raw:
            text = raw.decode("latin-1")
            texts.append(unquote_plus(text, encoding="latin-1").encode("latin-1"))
            texts.append(unquote(text, encoding="latin-1").encode("latin-1"))
        if b"\\u" in raw:
            texts += [_JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)).encode("utf-8", "replace"), t) for t in texts]
        decoded = [run for text in texts[:2] for run in _decoded_runs(text, self._shortest_run)]
        return [t.lower() for t in dict.fromkeys(texts)], [d.lower() for d in dict.fromkeys(decoded)]

    def check(self, request: requests.PreparedRequest, proxies: Mapping[str, str] | None = None) -> None:
        """Raise :class:`SecretRoutingError` when ``request`` would carry a secret somewhere it may not go."""
        if not self._patterns or self.replaying:
            return
        url = str(request.url or "")
        try:
            parsed = parse_url(url)
        except Exception:
            parsed = None
        scheme = (parsed.scheme or "").lower() if parsed else ""
        host = host_of(url)
        proxy = select_proxy(url, dict(proxies or {})) if proxies else None
        destination_ok = self.may_receive_secrets(scheme, host)
        proxy_host = host_of(proxy) if proxy else ""
        # A plain-http request through a proxy is readable by the proxy: the proxy must be allowed too.
        proxy_ok = proxy is None or scheme == "https" or self.may_receive_secrets("https", proxy_host)
        if destination_ok and proxy_ok:
            return
        if not isinstance(request.body, (bytes, str, type(None))):
            raise UsageError(
                f"refused to stream a request body to {self._mask_host(host)}: a streamed body cannot be "
                "checked for secrets, and this host may not receive them"
            )
        name = self.find_secret(request)
        shown = self._mask_host(host) or "an unparsable URL"
        if name is None and self.tainted_by is not None:
            raise SecretRoutingError(
                self.tainted_by,
                shown,
                "this request was built by a script that may read that secret, so it may go only where the "
                "secret may go (a Microsoft identity host over TLS)",
            )
        if name is None:
            return
        if not destination_ok:
            reason = (
                "a secret is only sent over TLS (https)"
                if host in IDENTITY_HOSTS
                else "a secret is only sent to a Microsoft identity host over TLS"
            )
            raise SecretRoutingError(name, shown, reason)
        # The proxy is who would read it: name the proxy as the host (and the real destination).
        raise SecretRoutingError(
            name,
            self._mask_host(proxy_host) or "the proxy",
            f"it is the proxy (from the environment) for a plain-http request to {shown} and would read the "
            f"secret (use https, or exclude {shown} with NO_PROXY)",
        )

    def _mask_host(self, host: str) -> str:
        """``host``, unless it is built from a secret (then it is masked like the secret)."""
        lowered = host.lower().encode("utf-8", "surrogateescape")
        if any(form in lowered for _, form, _ in self._patterns):
            return MASK
        return host


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8", "surrogateescape")
    return b""
