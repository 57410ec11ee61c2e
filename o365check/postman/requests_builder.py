"""Turn a collection request into the bytes Postman would send (runner-facts §5).

The URL is built from its components (``raw`` only when there are none), variables are resolved on
the joined string, disabled headers/params/fields are dropped, ``:name`` path variables are filled
in, and bodies are raw, urlencoded, formdata (text and file), file or graphql. A body on GET is sent.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from urllib3 import encode_multipart_formdata

from .model import Body, Request, Url
from .variables import VariableScopes, js_string

__all__ = ["BuiltRequest", "apply_script_changes", "build_request", "join_url_template", "merge_headers"]

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


def join_url_template(url: Url) -> str:
    """The unresolved URL string, from components as postman-collection's ``Url.toString``."""
    if not url.has_components:
        return url.raw
    text = f"{url.protocol}://" if url.protocol else ""
    text += ".".join(url.host or [])
    if url.port:
        text += f":{url.port}"
    if url.path is not None and url.path:
        text += "/" + "/".join(url.path)
    query = [q for q in url.query if not q.disabled]
    if query:
        text += "?" + "&".join(q.key if q.value in (None,) else f"{q.key}={js_string(q.value)}" for q in query)
    if url.hash:
        text += f"#{url.hash}"
    return text


def _fill_path_variables(url: str, variables: list[Any], scopes: VariableScopes, unresolved: set[str]) -> str:
    """Replace ``/:name`` segments by the request's path variables (``url.variable``)."""
    values = {v.key: scopes.resolve(js_string(v.value), unresolved) for v in variables if v.key and not v.disabled}
    if not values:
        return url
    scheme, sep, rest = url.partition("://") if "://" in url else ("", "", url)
    path, qmark, tail = rest.partition("?")
    segments = [values.get(s[1:], s) if s.startswith(":") else s for s in path.split("/")]
    return f"{scheme}{sep}{'/'.join(segments)}{qmark}{tail}"


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
        content_type = _RAW_CONTENT_TYPES.get(body.language or "", "text/plain")
        return text.encode("utf-8"), content_type, {"mode": "raw", "raw": text}
    if body.mode == "urlencoded":
        pairs = [(resolve(f.key), resolve(f.value)) for f in body.fields if not f.disabled]
        view = {"mode": "urlencoded", "urlencoded": [{"key": k, "value": v} for k, v in pairs]}
        return urlencode(pairs).encode("ascii"), "application/x-www-form-urlencoded", view
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
        data, content_type = encode_multipart_formdata(fields)
        return data, content_type, {"mode": "formdata", "formdata": shown}
    if body.mode == "file":
        if body.file_src:
            data = _read_file(resolve(body.file_src), base_dir, warnings, insecure_file_read)
            return data, None, {"mode": "file", "file": {"src": body.file_src}}
        text = resolve(body.file_content or "")
        return text.encode("utf-8"), None, {"mode": "file", "file": {"content": text}}
    if body.mode == "graphql":
        query = resolve(body.graphql.get("query") or "")
        variables_text = resolve(body.graphql.get("variables") or "")
        try:
            variables = json.loads(variables_text) if variables_text.strip() else {}
        except json.JSONDecodeError:
            warnings.append("graphql variables are not valid JSON; sent as an empty object")
            variables = {}
        payload = json.dumps({"query": query, "variables": variables})
        return (
            payload.encode("utf-8"),
            "application/json",
            {"mode": "graphql", "graphql": {"query": query, "variables": variables_text}},
        )
    return None, None, None


def build_request(
    request: Request, scopes: VariableScopes, *, base_dir: Path | None = None, insecure_file_read: bool = False
) -> BuiltRequest:
    """Resolve variables and assemble the method, URL, headers and body Postman would send."""
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
    built = BuiltRequest(
        method=scopes.resolve(request.method, unresolved).upper() or "GET", url=_ensure_scheme(url.strip())
    )
    for header in request.headers:
        if not header.disabled and header.key:
            built.headers.append(
                (scopes.resolve(header.key, unresolved), scopes.resolve(js_string(header.value), unresolved))
            )
    if request.body is not None:
        data, content_type, view = _build_body(
            request.body, scopes, unresolved, base_dir or Path.cwd(), warnings, insecure_file_read
        )
        built.body, built.body_view = data, view
        if content_type and built.header("Content-Type") is None:
            built.headers.append(("Content-Type", content_type))
        elif content_type and request.body.mode == "formdata":
            built.set_header("Content-Type", content_type)  # the boundary must match the body
    built.unresolved = unresolved
    built.warnings = warnings
    return built


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


def apply_script_changes(
    built: BuiltRequest, changed: dict[str, Any], before: dict[str, Any], scopes: VariableScopes
) -> None:
    """A pre-request script changed ``pm.request``: take over its URL, method and headers."""
    # compare decoded: an engine may hand back `{{x}}` as `%7B%7Bx%7D%7D` without the script touching it
    if changed.get("url") and unquote(str(changed["url"])) != unquote(str(before.get("url") or "")):
        built.url = scopes.resolve(str(changed["url"]))
    if changed.get("method") and changed.get("method") != before.get("method"):
        built.method = str(changed["method"]).upper()
    if isinstance(changed.get("headers"), list) and changed["headers"] != before.get("headers"):
        for header in changed["headers"]:
            if isinstance(header, dict) and header.get("key") and header not in (before.get("headers") or []):
                built.set_header(str(header["key"]), scopes.resolve(str(header.get("value", ""))))
