"""Which of a collection's variables are secrets that must not leave for the wrong host.

The rule itself is enforced on the wire, for every request, by :mod:`o365check.transport.egress`;
this module only classifies, before the first request is sent:

- a ``type: secret`` variable, or one named like a credential (``client_secret``, ``password``,
  ``apiKey``...; tokens such as ``access_token`` are masked in reports but meant for resource
  hosts such as Graph, so they are not routed);
- any variable the OAuth 2.0 helper of any request, folder or the collection will send as its
  client secret (so an unremarkable name such as ``{{cs}}`` is a secret from the first request on,
  not only after the OAuth 2.0 item ran), and a literal client secret written in the auth block;
- any variable named with ``o365check run --secret NAME``.

Values a script derives from a secret are caught on the wire by the encodings the masker knows
(raw, URL, JSON, Base64, fragments). Anything cleverer (reversed, XOR-ed, one character per
request) is covered by a second rule: when a script may read a secret
(:func:`script_may_read_secret`, judged conservatively from its text), the requests it makes with
``pm.sendRequest``, and its item's own request if it is a pre-request script, may go only where
a secret may go; and the values it stores in variables count as secrets derived from it (except
values copied from a response it received, such as an access token).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..redact import is_secret_name
from .model import Auth, Collection, Folder, Item
from .variables import js_string

__all__ = ["is_credential_name", "oauth2_secret_literals", "oauth2_secret_names", "script_may_read_secret"]

_TOKENISH = re.compile(r"token", re.I)
_REFERENCE = re.compile(r"\{\{([^{}]+)\}\}")
_SECRET_PARAMS = ("clientSecret", "client_secret")


def is_credential_name(name: str) -> bool:
    """Secret-named but not a token: ``client_secret``, ``password``, ``apikey`` (not ``AppAccessToken``)."""
    return is_secret_name(name) and not _TOKENISH.search(name)


def _auth_blocks(collection: Collection) -> Iterator[Auth]:
    if collection.auth is not None:
        yield collection.auth

    def walk(nodes: list[Item | Folder]) -> Iterator[Auth]:
        for node in nodes:
            if isinstance(node, Folder):
                if node.auth is not None:
                    yield node.auth
                yield from walk(node.items)
            elif node.request.auth is not None:
                yield node.request.auth

    yield from walk(collection.items)


def _client_secrets(collection: Collection) -> Iterator[str]:
    for auth in _auth_blocks(collection):
        if auth.type != "oauth2":
            continue
        for name in _SECRET_PARAMS:
            value = auth.params.get(name)
            if value not in (None, ""):
                yield js_string(value)


def oauth2_secret_names(collection: Collection) -> set[str]:
    """The variables any OAuth 2.0 auth block of ``collection`` uses in its client secret."""
    return {m.strip() for text in _client_secrets(collection) for m in _REFERENCE.findall(text)}


def oauth2_secret_literals(collection: Collection) -> list[str]:
    """Client secrets written literally in an OAuth 2.0 auth block (no ``{{variable}}``)."""
    return [text for text in _client_secrets(collection) if not _REFERENCE.search(text)]


# Reading scopes only through a literal name is traceable; everything else may read any variable.
_SCOPE_OBJECT = re.compile(r"\b(environment|globals|data|iterationData|variables|collectionVariables|_variables)\b")
_TRACEABLE_USE = re.compile(r"""\s*\.\s*(?:(?:get|has)\s*\(\s*(['"`])([^'"`\\$]*)\1\s*\)|(?:set|unset|clear)\s*\()""")
_DYNAMIC = re.compile(
    r"\b(eval|Function|globalThis|require|replaceIn|Reflect|_values|toObject|toJSON)\b"
    r"|\bpm\s*\[|\bthis\s*\["
    r"|\]\s*\("  # a call on a computed member: e["g" + "et"](name)
    r"|\.\s*(call|apply|bind)\s*\("
    r"""|\.\s*(?:get|has)\s*\(\s*(?!(?P<q>['"`])[^'"`\\$]*(?P=q)\s*\))"""  # get(<computed name>), on anything
)


def script_may_read_secret(source: str, secret_names: set[str]) -> str | None:
    """The secret a script may read (its name, or ``"a secret"``), or None when it provably reads none.

    Conservative, by the text: a script reads a secret when it names one, or reads a scope in
    any way other than ``.get("literal")`` / ``.has("literal")`` of a non-secret name (a computed
    name, ``toObject()``, the legacy ``environment[...]`` objects, ``replaceIn``, ``eval``...).
    """
    lowered = source.lower()
    for name in sorted(secret_names):
        if name and name.lower() in lowered:
            return name
    # Read by a computed name or wholesale: any of them (named, so the refusal says which).
    anyone = ", ".join(sorted(secret_names)[:3]) + (", ..." if len(secret_names) > 3 else "") or "a secret"
    if _DYNAMIC.search(source):
        return anyone
    for match in _SCOPE_OBJECT.finditer(source):
        use = _TRACEABLE_USE.match(source, match.end())
        if use is None:
            return anyone
        name = use.group(2)
        if name is not None and (name in secret_names or is_credential_name(name)):
            return name
    return None
