"""Which of the Postman sandbox's library bundles a script needs, and where they are.

The bundles (``postman/js/libs/*.js``) are built by ``tools/fetch_script_libraries.py`` from the
npm packages postman-sandbox 4.7.1 pins. Each is evaluated into a run's QuickJS context only before
the first script that names it, so a run whose scripts use none pays nothing. A script "names" a
library by ``require('<name>')`` with a literal name (any other ``require(...)`` gets every library's
source text, parsed when that call asks for it),
by a legacy global (``_``, ``CryptoJS``, ``tv4``, ``xml2Json``, ``cheerio``, ``atob``, ``btoa``,
``Backbone``, ``Buffer``), or by calling a method Sugar adds to the built-ins (the legacy sandbox
loads Sugar for every script: ``responseBody.has('x')``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

__all__ = ["REQUIRE_NAMES", "available", "needed_by", "requires_computed_name"]

# What postman-sandbox 4.7.1's require() resolves (lib/environment.js), as tools/ bundles them.
REQUIRE_NAMES = (
    "ajv",
    "assert",
    "atob",
    "backbone",
    "btoa",
    "buffer",
    "chai",
    "cheerio",
    "crypto-js",
    "csv-parse/lib/sync",
    "events",
    "fs",
    "lodash",
    "moment",
    "os",
    "path",
    "postman-collection",
    "punycode",
    "querystring",
    "stream",
    "string_decoder",
    "timers",
    "tv4",
    "url",
    "util",
    "uuid",
    "xml2js",
)
SUGAR = "@legacy/sugar"
# legacy global -> the bundle behind it (postman-legacy-interface.js scopeLibraries; Buffer from execute-context.js)
LEGACY_GLOBALS = {
    "_": "@legacy/lodash3",
    "CryptoJS": "crypto-js",
    "tv4": "tv4",
    "xml2Json": "@legacy/xml2Json",
    "cheerio": "cheerio",
    "atob": "atob",
    "btoa": "btoa",
    "Backbone": "backbone",
    "Buffer": "buffer",
}
_IDENTIFIER = r"(?<![\w$.])({})(?![\w$])"
_LEGACY = re.compile(_IDENTIFIER.format("|".join(re.escape(name) for name in LEGACY_GLOBALS)))
_REQUIRE_LITERAL = re.compile(r"""(?<![\w$.])require\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)""")
_REQUIRE_ANY = re.compile(r"(?<![\w$.])require(?![\w$])")
_METHOD_CALL = re.compile(r"\.\s*([A-Za-z_$][\w$]*)\s*\(")
_RESPONSE_BODY_CALL = re.compile(r"(?<![\w$.])responseBody\s*\.\s*([A-Za-z_$][\w$]*)\s*\(")
_STATIC_CALL = re.compile(r"(?<![\w$.])(Object|Array|String|Number|Date|RegExp|Function)\s*\.\s*([A-Za-z_$][\w$]*)")


def _folder() -> Traversable:
    return resources.files("o365check.postman") / "js" / "libs"


@cache
def available() -> dict[str, Traversable]:
    """Bundle name -> file, for the bundles that were built (empty when tools/ never ran)."""
    index = _folder() / "bundles.json"
    if not index.is_file():
        return {}
    entries = json.loads(index.read_text(encoding="utf-8"))
    return {entry["name"]: _folder() / entry["file"] for entry in entries if (_folder() / entry["file"]).is_file()}


@cache
def _sugar_methods() -> tuple[frozenset[str], frozenset[str], dict[str, frozenset[str]]]:
    """(every prototype method Sugar adds, the ones no other common API has, static methods by class)."""
    path = _folder() / "sugar-methods.json"
    if not path.is_file():
        return frozenset(), frozenset(), {}
    data = json.loads(path.read_text(encoding="utf-8"))
    statics = {cls: frozenset(names) for cls, names in data.get("static", {}).items()}
    return frozenset(data.get("prototype", ())), frozenset(data.get("distinctive", ())), statics


def _uses_sugar(source: str) -> bool:
    every, distinctive, statics = _sugar_methods()
    if any(m.group(1) in every for m in _RESPONSE_BODY_CALL.finditer(source)):
        return True
    if any(m.group(1) in distinctive for m in _METHOD_CALL.finditer(source)):
        return True
    return any(m.group(2) in statics.get(m.group(1), ()) for m in _STATIC_CALL.finditer(source))


def requires_computed_name(source: str) -> bool:
    """True when ``source`` calls require() other than with a literal name (``require(name)``): then
    every library is handed to the context as source text, parsed only if that require() asks for it."""
    return len(_REQUIRE_ANY.findall(source)) > len(_REQUIRE_LITERAL.findall(source))


def needed_by(source: str) -> set[str]:
    """The bundle names ``source`` may use (a superset: a name in a comment counts too)."""
    needed = {LEGACY_GLOBALS[m.group(1)] for m in _LEGACY.finditer(source)}
    literal = [m.group(2) for m in _REQUIRE_LITERAL.finditer(source)]
    needed.update(name for name in literal if name in REQUIRE_NAMES)
    if _uses_sugar(source):
        needed.add(SUGAR)
    return needed
