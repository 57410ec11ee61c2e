"""Variable scopes and ``{{name}}`` substitution with Postman's precedence.

Precedence (highest first): local > iteration data > environment > collection > globals
(runner-facts §5, postman-collection ``variable-scope``). References are resolved repeatedly so
nested ones (``{{outer_{{inner}}}}`` or a value that itself holds ``{{...}}``) work; unresolved
references are left verbatim, as Newman does, and collected so the runner can report them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from .dynamic import generate_dynamic_value
from .model import Variable

__all__ = ["MAX_SUBSTITUTION_PASSES", "SCOPE_NAMES", "UNDEFINED", "VariableScopes", "js_string", "variables_to_dict"]

# Script-facing names of the scopes, in precedence order (highest first).
SCOPE_NAMES = ("local", "iterationData", "environment", "collectionVariables", "globals")
_REFERENCE = re.compile(r"\{\{([^{}]+?)\}\}")
# Nested references are resolved at most 19 times (runner-facts §5; measured with Newman 6.2: a chain
# {{v0}} -> {{v1}} -> ... comes out as {{v19}}, in URLs and in pm.variables.replaceIn alike).
MAX_SUBSTITUTION_PASSES = 19


class _Undefined:
    """JavaScript's ``undefined``: a local variable a script set to it (``pm.variables.set(k, undefined)``)."""

    def __repr__(self) -> str:
        return "undefined"

    def __str__(self) -> str:
        return ""


# Newman keeps such a variable (``has()`` is true); it resolves to "" while null resolves to "null".
UNDEFINED: Any = _Undefined()


def js_string(value: Any) -> str:
    """How a variable value is substituted: ``String(value)``, but JSON for objects and "" for undefined
    (postman-collection; measured with Newman 6.2.2: a null value gives ``null`` in the URL)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is UNDEFINED:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def variables_to_dict(variables: Iterable[Variable]) -> dict[str, Any]:
    """Enabled variables as a dict; for duplicated keys the last enabled one wins."""
    return {v.key: v.value for v in variables if not v.disabled}


class VariableScopes:
    """The five scopes of one run. Each is a plain ``dict`` that scripts may change."""

    def __init__(
        self,
        *,
        globals_: dict[str, Any] | None = None,
        collection: dict[str, Any] | None = None,
        environment: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        local: dict[str, Any] | None = None,
    ):
        self.scopes: dict[str, dict[str, Any]] = {
            "local": dict(local or {}),
            "iterationData": dict(data or {}),
            "environment": dict(environment or {}),
            "collectionVariables": dict(collection or {}),
            "globals": dict(globals_ or {}),
        }

    def lookup(self, name: str) -> tuple[bool, Any]:
        """``(True, value)`` from the highest scope that defines ``name``, else ``(False, None)``."""
        for scope in SCOPE_NAMES:
            values = self.scopes[scope]
            if name in values:
                return True, values[name]
        return False, None

    def resolve(self, text: str, unresolved: set[str] | None = None) -> str:
        """Substitute ``{{name}}`` references; names found nowhere are added to ``unresolved``."""
        if not isinstance(text, str) or "{{" not in text:
            return text if isinstance(text, str) else js_string(text)
        missing: set[str] = set()

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            found, value = self.lookup(name)
            if found:
                return js_string(value)
            if name.startswith("$"):
                dynamic = generate_dynamic_value(name)
                if dynamic is not None:
                    return dynamic
            missing.add(name)
            return match.group(0)

        for _ in range(MAX_SUBSTITUTION_PASSES):
            missing.clear()
            new = _REFERENCE.sub(substitute, text)
            if new == text:
                break
            text = new
        if unresolved is not None:
            unresolved.update(missing)
        return text

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """A copy of every scope, for a script to work on."""
        return {name: dict(values) for name, values in self.scopes.items()}

    def replace_all(self, scopes: dict[str, dict[str, Any]]) -> None:
        """Take over the scopes a script returned (unknown scope names are ignored)."""
        for name, values in scopes.items():
            if name in self.scopes and isinstance(values, dict):
                self.scopes[name] = dict(values)
