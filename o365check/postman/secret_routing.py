"""The secret-routing rule: a credential goes only to a Microsoft identity host over TLS.

A credential is the value of a ``type: secret`` variable or of a variable named like one
(``client_secret``, ``password``, ``apiKey``...). Before a request leaves, its URL, headers (Basic
credentials decoded) and body are searched for every credential in its raw, URL-encoded and
JSON-escaped forms; if one is found and the destination is not an identity host over ``https``,
nor a loopback address (the sandbox), nor a host the user allowed, ``SecretRoutingError`` names
the variable and the host (design.md "Secrets").

Tokens (``access_token``, ``AppAccessToken``...) are masked in reports but not routed: they are
meant for resource hosts such as Graph.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit

from ..clouds import IDENTITY_HOSTS
from ..errors import SecretRoutingError
from ..redact import is_secret_name
from .requests_builder import BuiltRequest

__all__ = ["LOOPBACK_HOSTS", "SecretRouter", "is_credential_name"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_TOKENISH = re.compile(r"token", re.I)


def is_credential_name(name: str) -> bool:
    """Secret-named but not a token: ``client_secret``, ``password``, ``apikey`` (not ``AppAccessToken``)."""
    return is_secret_name(name) and not _TOKENISH.search(name)


def _split(url: str) -> tuple[str, str]:
    """``(scheme, host)`` of ``url``; an unparsable URL has no host (so it may receive no secret)."""
    try:
        parts = urlsplit(url)
        return parts.scheme, (parts.hostname or "").lower()
    except ValueError:
        return "", ""


def _forms(value: str) -> set[str]:
    return {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]}


class SecretRouter:
    """Knows the run's credentials and refuses requests that would carry one to the wrong host."""

    def __init__(self, allow_hosts: Iterable[str] = (), *, min_length: int = 4):
        self.allow_hosts = {h.strip().lower() for h in allow_hosts if h and h.strip()}
        self._credentials: dict[str, str] = {}  # value -> variable name
        self._min_length = min_length

    def register(self, name: str, value: object) -> None:
        """Remember ``value`` as the credential held by variable ``name``."""
        text = "" if value is None else str(value)
        if len(text) >= self._min_length and text not in self._credentials:
            self._credentials[text] = name

    def register_variables(self, variables: dict[str, object], secret_keys: Iterable[str] = ()) -> None:
        """Register the credentials among ``variables``: ``secret_keys`` plus credential-named keys."""
        marked = set(secret_keys)
        for key, value in variables.items():
            if key in marked or is_credential_name(key):
                self.register(key, value)

    def host_may_receive_secrets(self, url: str) -> bool:
        scheme, host = _split(url)
        if host in self.allow_hosts or host in LOOPBACK_HOSTS or host.startswith("127."):
            return True
        return scheme == "https" and host in IDENTITY_HOSTS

    def find_carried_secret(self, request: BuiltRequest) -> str | None:
        """The name of a credential the request carries, or None."""
        if not self._credentials:
            return None
        texts = [request.url]
        for key, value in request.headers:
            texts.append(value)
            if key.lower() in ("authorization", "proxy-authorization") and value.lower().startswith("basic "):
                try:
                    texts.append(base64.b64decode(value[6:].strip(), validate=False).decode("utf-8", "replace"))
                except (binascii.Error, ValueError):
                    pass
        if request.body:
            texts.append(request.body.decode("utf-8", "replace"))
        haystack = "\n".join(texts)
        for value, name in self._credentials.items():
            if any(form in haystack for form in _forms(value)):
                return name
        return None

    def check_request_allowed(self, request: BuiltRequest) -> None:
        """Raise ``SecretRoutingError(variable, host)`` when a credential would reach the wrong host."""
        if self.host_may_receive_secrets(request.url):
            return
        name = self.find_carried_secret(request)
        if name is not None:
            _, host = _split(request.url)
            reason = (
                "a secret is only sent over TLS (https)"
                if host in IDENTITY_HOSTS
                else "a secret is only sent to a Microsoft identity host over TLS"
            )
            raise SecretRoutingError(name, host or "an unparsable URL", reason)
