"""The run's side of the egress rule: which secrets a run holds, and what its scripts do with them.

The rule is enforced on the wire by :mod:`o365check.transport.egress`; a :class:`SecretGuard`
feeds it, so the runner needs only a few calls:

- :meth:`SecretGuard.register_scopes` after any scope changes: credentials (``type: secret``,
  credential-named, ``--secret`` names, OAuth 2.0 client-secret variables) go to the egress rule;
- :meth:`SecretGuard.script_starts` / :meth:`SecretGuard.script_ended` around each script: while a
  script that may read a secret runs (postman/secret_routing.py), its ``pm.sendRequest`` calls
  are held to that secret's destinations; the values it stores become derived secrets (unless
  copied from a response it received); a pre-request script's taint covers its item's request;
- :meth:`SecretGuard.item_request` around the item's own request;
- :meth:`SecretGuard.refused_script_request` / :meth:`SecretGuard.take_refusals`: a refused
  ``pm.sendRequest`` fails its item, not only its callback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import SecretRoutingError
from ..redact import Redactor
from ..transport.egress import Egress
from .secret_routing import is_credential_name, script_may_read_secret

__all__ = ["SecretGuard"]

_MIN_DERIVED_LENGTH = 8  # shorter stored values ("ok", "1", "true") are not worth refusing requests over


class SecretGuard:
    """Registers a run's secrets on its session's egress rule and tracks script taint."""

    def __init__(self, egress: Egress, redactor: Redactor, secret_keys: set[str]):
        self.egress, self.redactor, self.secret_keys = egress, redactor, secret_keys
        self._item_taint: str | None = None
        self._responses: list[str] = []
        self._refusals: list[tuple[str, str, SecretRoutingError]] = []
        self._before: dict[str, dict[str, Any]] = {}
        self._taint: str | None = None

    def register_scopes(self, scopes: dict[str, dict[str, Any]]) -> None:
        for values in scopes.values():
            for key, value in values.items():
                if key in self.secret_keys or is_credential_name(key):
                    self.egress.register(key, value)

    def register_literals(self, name: str, values: Iterable[str]) -> None:
        for value in values:
            self.redactor.add(value)
            self.egress.register(name, value)

    # -- scripts ---------------------------------------------------------------------------
    def item_starts(self) -> None:
        self._item_taint = None

    def script_starts(self, source: str, scopes: dict[str, dict[str, Any]], response: dict[str, Any] | None) -> None:
        """Before a script runs with these scopes (and, for a test script, this response)."""
        self._taint = None
        if self.egress.has_secrets:
            names = {k for values in scopes.values() for k in values if k in self.secret_keys or is_credential_name(k)}
            self._taint = script_may_read_secret(source, names)
        self._before = scopes
        self._responses = [str(response.get("body") or "")] if response else []
        self.egress.tainted_by = self._taint

    def script_ended(self, listen: str, scopes_after: dict[str, dict[str, Any]] | None) -> None:
        """After it ran (``scopes_after`` None when it could not run at all)."""
        self.egress.tainted_by = None
        if self._taint is None:
            return
        if listen == "prerequest":
            self._item_taint = self._taint
        for scope, values in (scopes_after or {}).items():
            for key, value in (values or {}).items():
                text = "" if value is None else str(value)
                if len(text) < _MIN_DERIVED_LENGTH or (self._before.get(scope) or {}).get(key) == value:
                    continue
                if any(text in body for body in self._responses):
                    continue  # copied from a response it received (an access token, say)
                self.egress.register(f"{key} (derived by a script from {self._taint})", text)
                self.redactor.add(text)

    def response_received(self, text: str) -> None:
        """A ``pm.sendRequest`` answer the running script received."""
        self._responses.append(text)

    def refused_script_request(self, method: str, url: str, error: SecretRoutingError) -> None:
        self._refusals.append((method, url, error))

    def take_refusals(self) -> list[tuple[str, str, SecretRoutingError]]:
        refusals, self._refusals = self._refusals, []
        return refusals

    # -- the item's request ----------------------------------------------------------------
    @contextmanager
    def item_request(self) -> Iterator[None]:
        """While the item's own request is sent: held to the taint of its pre-request scripts."""
        self.egress.tainted_by = self._item_taint
        try:
            yield
        finally:
            self.egress.tainted_by = None
