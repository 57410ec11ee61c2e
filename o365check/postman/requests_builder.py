"""Turn a collection request into the bytes Postman would send (runner-facts §5).

The URL is built from its components (``raw`` only when there are none), variables are resolved on
the joined string, disabled headers/params/fields are dropped, ``:name`` path variables are filled
in (an empty one stays ``:name``), and the result is percent-encoded with postman-url-encoder's
sets. Bodies are raw (JSON comments stripped), urlencoded, formdata (text and file), file or
graphql; as postman-runtime 7.39.1 ``requester/core.js getRequestBody`` does, an empty body is not
sent, and GET, HEAD, COPY, PURGE and UNLOCK carry none unless ``disableBodyPruning`` is set.
"""

from __future__ import annotations

import json
import mimetypes
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from urllib3 import encode_multipart_formdata

from .model import Body, KeyValue, Request, Url, dict_at
from .variables import VariableScopes, js_string

__all__ = [
    "BuiltRequest",
    "POSTMAN_RUNTIME_VERSION",
    "add_system_headers",
    "apply_script_changes",
    "body_template",
    "build_request",
    "encode_url",
    "join_url_template",
    "merge_headers",
]


# The postman-runtime Newman 6.2.2 ships; its User-Agent is `PostmanRuntime/<version>`.
POSTMAN_RUNTIME_VERSION = "7.39.1"
# postman-runtime requester/core.js METHODS_WITHOUT_BODY: bodies are pruned on these.
METHODS_WITHOUT_BODY = frozenset({"GET", "COPY", "HEAD", "PURGE", "UNLOCK"})
# postman-url-encoder encode-set.js (C0 controls, DEL and non-ASCII are always encoded).
_QUERY_SET = frozenset(" \"#'<>")
_PARAM_VALUE_SET = _QUERY_SET | {"&"}
_PARAM_KEY_SET = _QUERY_SET | {"&", "="}
_PATH_SET = frozenset(' "<>`#?{}')
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_FRAGMENT_SET = frozenset(' "<>`')
# a JSON string, or a // or /* */ comment (Newman strips comments from raw JSON bodies, MIGRATION.md v6)
_JSON_STRING_OR_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*[\s\S]*?\*/')

# Content-Type Postman adds for raw bodies by `options.raw.language` when the request has none.
_RAW_CONTENT_TYPES = {
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
    "javascript": "application/javascript",
    "text": "text/plain",
}


@dataclass
class BuiltRequest:
    """A request ready to send. ``body_view`` is the Postman-shaped body for scripts and reports."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    body_view: dict[str, Any] | None = None
    unresolved: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        try:
            return (urlsplit(self.url).hostname or "").lower()
        except ValueError:  # e.g. an unclosed IPv6 bracket
            return ""

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (case-insensitive), or None."""
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[-1] if found else None

    def set_header(self, name: str, value: str) -> None:
        """Replace every ``name`` header with one ``name: value``."""
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))

    def add_query(self, key: str, value: str) -> None:
        sep = "&" if "?" in self.url.split("#")[0] else "?"
        base, hashmark, fragment = self.url.partition("#")
        self.url = f"{base}{sep}{quote(key, safe='')}={quote(value, safe='')}{hashmark}{fragment}"

    def script_view(self) -> dict[str, Any]:
        """The request as a script sees it (``pm.request``)."""
        return {
            "url": self.url,
            "method": self.method,
            "headers": [{"key": k, "value": v} for k, v in self.headers],
            "body": self.body_view,
        }


def _escape_separators(text: str, chars: str) -> str:
    """Percent-encode query separators in a literal component (never inside ``{{...}}``)."""
    if not any(c in text for c in chars):
        return text
    parts = re.split(r"(\{\{[^{}]*\}\})", text)
    return "".join(p if p.startswith("{{") else "".join(quote(c) if c in chars else c for c in p) for p in parts)


def join_url_template(url: Url) -> str:
    """The unresolved URL string, from components as postman-collection's ``Url.toString``."""
    if not url.has_components:
        return url.raw
    text = f"{url.protocol}://" if url.protocol else ""
    if url.userinfo:
        user, password = url.userinfo
        text += user + ("" if password is None else f":{password}") + "@"
    text += ".".join(url.host or [])
    if url.port:
        text += f":{url.port}"
    if url.path is not None and url.path:
        text += "/" + "/".join(url.path)
    query = [q for q in url.query if not q.disabled]
    if query:
        # `&` (and `=` in keys) inside one parameter stays data, as postman-url-encoder encodes per parameter
        text += "?" + "&".join(
            _escape_separators(q.key, "&=#")
            if q.value is None
            else f"{_escape_separators(q.key, '&=#')}={_escape_separators(js_string(q.value), '&#')}"
            for q in query
        )
    if url.hash:
        text += f"#{url.hash}"
    return text


def _fill_path_variables(url: str, variables: list[Any], scopes: VariableScopes, unresolved: set[str]) -> str:
    """Replace ``/:name`` segments by the request's path variables (``url.variable``).

    As postman-collection ``Url.getPath``: the name ends at the first ``.`` (``:id.json`` is ``id``
    with the suffix kept), and only a non-empty string value replaces it (else ``:name`` is sent).
    """
    values = {
        v.key: scopes.resolve(v.value, unresolved)
        for v in variables
        if v.key and not v.disabled and isinstance(v.value, str) and v.value
    }
    if not values:
        return url
    scheme, sep, rest = url.partition("://") if "://" in url else ("", "", url)
    path, qmark, tail = rest.partition("?")
    segments = []
    for segment in path.split("/"):
        name = segment[1:].split(".", 1)[0] if segment.startswith(":") else ""
        if name and values.get(name):
            segment = values[name] + segment[len(name) + 1 :]
        segments.append(segment)
    return f"{scheme}{sep}{'/'.join(segments)}{qmark}{tail}"


def _percent_encode(text: str, encode_set: frozenset[str]) -> str:
    """postman-url-encoder ``percentEncode``: encode the set, controls and non-ASCII; keep ``%``."""
    out = "".join(quote(ch, safe="") if ch in encode_set or ord(ch) < 0x20 or ord(ch) >= 0x7F else ch for ch in text)
    # a `%` that starts no escape is sent as %25: requests would otherwise re-encode every `%` in the URL
    return _LONE_PERCENT.sub("%25", out)


def encode_url(url: str, *, hash_allowed: bool = True) -> str:
    """Percent-encode a resolved URL as Newman does (postman-url-encoder ``toNodeUrl``): the path,
    each query key and value, and the fragment with their own sets. ``hash_allowed`` False treats a
    ``#`` as data (a URL built from components with no ``hash``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, rest = rest[:authority_end], rest[authority_end:]
    fragment = None
    if hash_allowed and "#" in rest:
        rest, _, fragment = rest.partition("#")
    path, qmark, query = rest.partition("?")
    out = f"{scheme}{sep}{authority}{_percent_encode(path, _PATH_SET)}"
    if qmark:
        params = []
        for param in query.split("&"):
            key, eq, value = param.partition("=")
            params.append(_percent_encode(key, _PARAM_KEY_SET) + (eq + _percent_encode(value, _PARAM_VALUE_SET)))
        out += "?" + "&".join(params)
    if fragment is not None:
        out += "#" + _percent_encode(fragment, _FRAGMENT_SET)
    return out


def strip_json_comments(text: str) -> str:
    """``//`` and ``/* */`` comments removed, strings untouched."""
    return _JSON_STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", text)


def _ensure_scheme(url: str) -> str:
    # Postman sends scheme-less URLs over http (postman-runtime url normalisation).
    return url if "://" in url.split("?")[0] else f"http://{url}" if url else url


def _read_file(src: str, base_dir: Path, warnings: list[str], insecure: bool = False) -> bytes | None:
    from .files import read_body_file  # confined to the working directory (files.py)

    try:
        return read_body_file(src, base_dir, insecure=insecure)
    except OSError as exc:
        warnings.append(f"file {src!r} for the body could not be read ({exc.strerror or exc}); field skipped")
        return None


def _build_body(
    body: Body,
    scopes: VariableScopes,
    unresolved: set[str],
    base_dir: Path,
    warnings: list[str],
    insecure_file_read: bool = False,
) -> tuple[bytes | None, str | None, dict[str, Any] | None]:
    """``(bytes, default content type, view)`` for a body."""
    resolve = lambda s: scopes.resolve(js_string(s), unresolved)  # noqa: E731
    if body.disabled:
        return None, None, None
    if body.mode == "raw":
        text = resolve(body.raw)
        if not text:  # an empty body is not sent, and gets no Content-Type
            return None, None, {"mode": "raw", "raw": ""}
        if body.language == "json":
            text = strip_json_comments(text)
        content_type = _RAW_CONTENT_TYPES.get(body.language or "", "text/plain")
        return text.encode("utf-8"), content_type, {"mode": "raw", "raw": text}
    if body.mode in ("urlencoded", "formdata") and all(f.disabled for f in body.fields):
        return None, None, {"mode": body.mode, body.mode: []}
    if body.mode == "urlencoded":
        pairs = [(resolve(f.key), resolve(f.value)) for f in body.fields if not f.disabled]
        view = {"mode": "urlencoded", "urlencoded": [{"key": k, "value": v} for k, v in pairs]}
        # postman-request's `form`: encodeURIComponent plus !'()* escaped, so a space is %20, not +
        encoded = urlencode(pairs, quote_via=lambda text, *_: quote(text, safe=""))
        return encoded.encode("ascii"), "application/x-www-form-urlencoded", view
    if body.mode == "formdata":
        fields: list[tuple[str, Any]] = []
        shown = []
        for f in body.fields:
            if f.disabled:
                continue
            key = resolve(f.key)
            if f.type == "file":
                sources = f.src if isinstance(f.src, list) else [f.src] if f.src else []
                for src in sources:
                    data = _read_file(resolve(src), base_dir, warnings, insecure_file_read)
                    if data is not None:
                        name = Path(src).name
                        fields.append(
                            (
                                key,
                                (
                                    name,
                                    data,
                                    f.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream",
                                ),
                            )
                        )
                        shown.append({"key": key, "type": "file", "src": src})
            else:
                value = resolve(f.value)
                fields.append((key, (None, value, f.content_type) if f.content_type else value))
                shown.append({"key": key, "type": "text", "value": value})
        if not fields:  # every field disabled or unreadable: Newman sends no body at all
            return None, None, {"mode": "formdata", "formdata": shown}
        data, content_type = encode_multipart_formdata(fields)
        return data, content_type, {"mode": "formdata", "formdata": shown}
    if body.mode == "file":
        if not body.file_src and not body.file_content:
            return None, None, None
        if body.file_src:
            data = _read_file(resolve(body.file_src), base_dir, warnings, insecure_file_read)
            return data, None, {"mode": "file", "file": {"src": body.file_src}}
        text = resolve(body.file_content or "")
        return text.encode("utf-8"), None, {"mode": "file", "file": {"content": text}}
    if body.mode == "graphql":
        # postman-runtime core-body-builder.js: variables given as text are pasted in unparsed
        graphql = body.graphql
        parts: list[str] = []
        gql_view: dict[str, Any] = {}
        for key in ("query", "operationName"):
            if isinstance(graphql.get(key), str):
                gql_view[key] = resolve(graphql[key])
                parts.append(f'"{key}":' + json.dumps(gql_view[key], ensure_ascii=False, separators=(",", ":")))
        variables = graphql.get("variables")
        if isinstance(variables, str):
            text = resolve(variables)
            gql_view["variables"] = text
            if text:
                parts.append('"variables":' + text)
            payload = "{" + ",".join(parts) + "}"
        else:
            payload = json.dumps(
                {
                    k: v
                    for k, v in (
                        ("query", gql_view.get("query")),
                        ("operationName", gql_view.get("operationName")),
                        ("variables", variables),
                    )
                    if v is not None
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
        return payload.encode("utf-8"), "application/json", {"mode": "graphql", "graphql": gql_view}
    return None, None, None


def build_request(
    request: Request,
    scopes: VariableScopes,
    *,
    base_dir: Path | None = None,
    insecure_file_read: bool = False,
    behaviour: dict[str, Any] | None = None,
) -> BuiltRequest:
    """Resolve variables and assemble the method, URL, headers and body Postman would send.

    ``behaviour`` is the item's protocolProfileBehavior (``disableBodyPruning``, ``disableUrlEncoding``).
    """
    behaviour = behaviour or {}
    unresolved: set[str] = set()
    warnings: list[str] = []
    template = join_url_template(request.url)
    if request.url.has_components and request.url.raw:
        # Postman ignores `raw` when components exist; say so when they differ (runner-facts §5).
        raw_resolved = scopes.resolve(request.url.raw)
        joined = scopes.resolve(template)
        if raw_resolved.split("#")[0].rstrip("/") != joined.split("#")[0].rstrip("/"):
            warnings.append(f"url.raw {request.url.raw!r} disagrees with the URL components; components used")
    url = scopes.resolve(template, unresolved)
    url = _fill_path_variables(url, request.url.variables, scopes, unresolved)
    url = _ensure_scheme(url.strip())
    if behaviour.get("disableUrlEncoding") is not True:
        url = encode_url(url, hash_allowed=not request.url.has_components or bool(request.url.hash))
    built = BuiltRequest(method=scopes.resolve(request.method, unresolved).upper() or "GET", url=url)
    for header in request.headers:
        if not header.disabled and header.key:
            built.headers.append(
                (scopes.resolve(header.key, unresolved), scopes.resolve(js_string(header.value), unresolved))
            )
    prune = built.method in METHODS_WITHOUT_BODY and behaviour.get("disableBodyPruning") is not True
    if request.body is not None and not prune:
        data, content_type, view = _build_body(
            request.body, scopes, unresolved, base_dir or Path.cwd(), warnings, insecure_file_read
        )
        built.body, built.body_view = data, view
        if content_type and built.header("Content-Type") is None:
            built.headers.append(("Content-Type", content_type))
        elif content_type and request.body.mode == "formdata":
            built.set_header("Content-Type", content_type)  # the boundary must match the body
        elif content_type and request.body.mode == "urlencoded":
            # postman-request's `form` replaces a Content-Type that is not application/x-www-form-urlencoded
            # (measured: Microsoft's collection's typo "x-www-url-form-urlencoded" goes out corrected)
            if not (built.header("Content-Type") or "").lower().startswith(content_type):
                built.set_header("Content-Type", content_type)
    built.unresolved = unresolved
    built.warnings = warnings
    return built


def add_system_headers(built: BuiltRequest) -> None:
    """The headers postman-runtime adds unless the request has its own (requester/core.js
    ``addSystemHeaders``); Host, Accept-Encoding and Connection are left to the HTTP library."""
    for name, value in (
        ("User-Agent", f"PostmanRuntime/{POSTMAN_RUNTIME_VERSION}"),
        ("Accept", "*/*"),
        ("Cache-Control", "no-cache"),
        ("Postman-Token", str(uuid.uuid4())),
    ):
        if built.header(name) is None:
            built.headers.append((name, value))


def merge_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Headers as the dict requests takes; repeated names are joined with ", " (RFC 9110 §5.3)."""
    merged: dict[str, str] = {}
    lower: dict[str, str] = {}
    for key, value in headers:
        if key.lower() in lower:
            first = lower[key.lower()]
            merged[first] = f"{merged[first]}, {value}"
        else:
            lower[key.lower()] = key
            merged[key] = value
    return merged


def body_template(body: Body | None) -> dict[str, Any] | None:
    """The unresolved body as ``pm.request.body`` shows it to a pre-request script."""
    if body is None:
        return None
    view: dict[str, Any] = {"mode": body.mode}
    if body.mode == "raw":
        view["raw"] = body.raw
        if body.language:
            view["options"] = {"raw": {"language": body.language}}
    elif body.mode in ("urlencoded", "formdata"):
        view[body.mode] = [
            {
                "key": f.key,
                "value": f.value,
                "type": f.type,
                **({"src": f.src} if f.src else {}),
                **({"disabled": True} if f.disabled else {}),
            }
            for f in body.fields
        ]
    elif body.mode == "graphql":
        view["graphql"] = dict(body.graphql)
    elif body.mode == "file":
        view["file"] = {"src": body.file_src} if body.file_src else {"content": body.file_content or ""}
    return view


def _body_from_view(view: dict[str, Any], language: str | None) -> Body | None:
    """A body a script left in ``pm.request.body`` (Postman's shape) as a model Body."""
    mode = view.get("mode")
    if mode == "raw":
        options = dict_at(view, "options")
        raw_options = dict_at(options, "raw")
        return Body("raw", raw=js_string(view.get("raw")), language=raw_options.get("language") or language)
    if mode in ("urlencoded", "formdata") and isinstance(view.get(mode), list):
        fields = [
            KeyValue(
                js_string(f.get("key")),
                f.get("value", ""),
                disabled=f.get("disabled") is True,
                type=str(f.get("type") or "text"),
                src=f.get("src"),
            )
            for f in view[mode]
            if isinstance(f, dict)
        ]
        return Body(mode, fields=fields)
    if mode == "graphql" and isinstance(view.get("graphql"), dict):
        return Body("graphql", graphql=view["graphql"])
    return None


def apply_script_changes(
    built: BuiltRequest,
    changed: dict[str, Any],
    before: dict[str, Any],
    scopes: VariableScopes,
    *,
    base_dir: Path | None = None,
) -> None:
    """A pre-request script changed ``pm.request``: take over its URL, method, headers and body."""
    old_body, new_body = before.get("body"), changed.get("body")
    if isinstance(new_body, dict) and new_body != old_body:
        language = (old_body or {}).get("options", {}).get("raw", {}).get("language") if old_body else None
        body = _body_from_view(new_body, language)
        if body is not None:
            warnings: list[str] = []
            data, content_type, view = _build_body(body, scopes, built.unresolved, base_dir or Path.cwd(), warnings)
            built.body, built.body_view = data, view
            if content_type and (built.header("Content-Type") is None or body.mode == "formdata"):
                built.set_header("Content-Type", content_type)
    # compare decoded: an engine may hand back `{{x}}` as `%7B%7Bx%7D%7D` without the script touching it
    if changed.get("url") and unquote(str(changed["url"])) != unquote(str(before.get("url") or "")):
        built.url = scopes.resolve(str(changed["url"]))
    if changed.get("method") and changed.get("method") != before.get("method"):
        built.method = str(changed["method"]).upper()
    if isinstance(changed.get("headers"), list) and changed["headers"] != before.get("headers"):
        for header in changed["headers"]:
            if isinstance(header, dict) and header.get("key") and header not in (before.get("headers") or []):
                built.set_header(str(header["key"]), scopes.resolve(str(header.get("value", ""))))
