"""Read collections (v2.0/v2.1), environment and globals files, and iteration data (CSV or JSON).

Schema problems are warnings (Newman runs files that do not validate, runner-facts §5 and corpus
README); only a file that cannot be read or parsed at all raises ``CollectionLoadError`` with the
path and the position (``line 3, column 7`` or ``byte 12``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import CollectionLoadError
from ..user_files import MAX_INPUT_BYTES, UserFileError, open_user_file, read_user_bytes
from .csv_data import parse_csv_records
from .model import (
    Auth,
    Body,
    Collection,
    Folder,
    Item,
    KeyValue,
    Request,
    Script,
    Url,
    Variable,
    VariableFile,
    dict_at,
    list_at,
)

__all__ = [
    "decode_file_text",
    "load_collection",
    "load_environment",
    "load_globals",
    "load_iteration_data",
    "parse_collection",
    "parse_variable_assignment",
]


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_file_text(path: str | Path, data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 (Newman fixtures `bom-and-encoding`)."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
        encoding = "utf-16-be" if data[0] == 0 else "utf-16-le"  # UTF-16 without a BOM
    try:
        return data.decode(encoding or "utf-8")
    except UnicodeDecodeError as exc:
        raise CollectionLoadError(
            str(path), f"not valid {encoding or 'UTF-8'} text ({exc.reason}); save it as UTF-8", f"byte {exc.start}"
        ) from None


def _read_text(path: str | Path) -> str:
    """A regular file's text, within ``user_files.MAX_INPUT_BYTES`` (no FIFOs, devices, directories)."""
    try:
        data = read_user_bytes(path, "file")
    except UserFileError as exc:
        reason = str(exc).split(": ", 1)[-1]  # "cannot read file 'x': <reason>" -> the reason
        raise CollectionLoadError(str(path), reason) from None
    return decode_file_text(path, data)


def _read_json(path: str | Path, text: str | None = None) -> Any:
    text = _read_text(path) if text is None else text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectionLoadError(
            str(path), f"not valid JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise CollectionLoadError(str(path), "JSON nested too deeply") from None


def _text(value: Any) -> str:
    return (
        ""
        if value is None
        else value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, (dict, list))
        else str(value)
    )


def _key_values(raw: Any, where: str, warnings: list[str]) -> list[KeyValue]:
    """Headers, query params, body fields: a list of {key, value, disabled} (headers may be a string)."""
    if raw is None:
        return []
    if isinstance(raw, str):  # "Key: value\nKey2: value2" (schema allows a header string)
        pairs = [line.split(":", 1) for line in raw.splitlines() if ":" in line]
        return [KeyValue(k.strip(), v.strip()) for k, v in pairs]
    if not isinstance(raw, list):
        warnings.append(f"{where}: expected a list, got {type(raw).__name__}; ignored")
        return []
    out = []
    for entry in raw:
        if not isinstance(entry, dict):
            warnings.append(f"{where}: entry {entry!r:.40} is not an object; ignored")
            continue
        src = entry.get("src")
        out.append(
            KeyValue(
                key=_text(entry.get("key")),
                value="" if entry.get("value") is None else entry.get("value"),
                disabled=entry.get("disabled") is True or entry.get("enabled") is False,
                type=_text(entry.get("type")) or "text",
                src=src if isinstance(src, (str, list)) else None,
                content_type=entry.get("contentType") if isinstance(entry.get("contentType"), str) else None,
            )
        )
    return out


def _auth(raw: Any, where: str, warnings: list[str]) -> Auth | None:
    """v2.1 `{type, <type>: [{key, value}]}` or v2.0 `{type, <type>: {key: value}}`; None = inherit."""
    if not isinstance(raw, dict):
        if raw is not None:
            warnings.append(f"{where}.auth: expected an object; ignored")
        return None
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind or kind == "inherit":
        return None
    params_raw = raw.get(kind)
    params: dict[str, Any] = {}
    if isinstance(params_raw, dict):
        params = dict(params_raw)
    elif isinstance(params_raw, list):
        for entry in params_raw:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                params[entry["key"]] = entry.get("value")
    elif params_raw is not None:
        warnings.append(f"{where}.auth.{kind}: expected a list or object; ignored")
    return Auth(kind, params)


def _events(raw: Any, where: str, warnings: list[str]) -> list[Script]:
    if isinstance(raw, dict):  # some exports carry a single event object
        raw = [raw]
    if not isinstance(raw, list):
        if raw is not None:
            warnings.append(f"{where}.event: expected a list; ignored")
        return []
    scripts = []
    for event in raw:
        if not isinstance(event, dict) or event.get("disabled") is True:
            continue
        listen, script = event.get("listen"), event.get("script")
        if listen not in ("prerequest", "test"):
            warnings.append(f"{where}.event: unknown listen {listen!r}; ignored")
            continue
        if isinstance(script, str):
            script = {"exec": script}
        if not isinstance(script, dict):
            continue
        exec_ = script.get("exec")
        lines = exec_ if isinstance(exec_, list) else [exec_] if isinstance(exec_, str) else []
        source = "\n".join(_text(line).rstrip("\r") for line in lines)  # MS Graph exports end lines with \r
        # an empty script is kept: Newman counts it in run.stats though it does nothing
        scripts.append(Script(listen, source, _text(script.get("name"))))
    return scripts


def _segments(raw: Any, sep: str) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw.split(sep) if raw else []
    if isinstance(raw, list):
        return [_text(s.get("value")) if isinstance(s, dict) else _text(s) for s in raw]
    return None


def _url(raw: Any, where: str, warnings: list[str]) -> Url:
    if isinstance(raw, str) or raw is None:
        return Url(raw=raw or "")
    if not isinstance(raw, dict):
        warnings.append(f"{where}.url: expected a string or object; ignored")
        return Url()
    url = Url(
        raw=_text(raw.get("raw")),
        protocol=_text(raw.get("protocol")) or None,
        host=_segments(raw.get("host"), "."),
        port=_text(raw.get("port")) or None,
        path=_segments(raw.get("path"), "/"),
        query=_key_values(raw.get("query"), f"{where}.url.query", warnings),
        hash=_text(raw.get("hash")) or None,
        variables=_key_values(raw.get("variable"), f"{where}.url.variable", warnings),
    )
    for variable, entry in zip(url.variables, raw.get("variable") or [], strict=False):
        if not variable.key and isinstance(entry, dict):  # exports name path variables by `id` too
            variable.key = _text(entry.get("id"))
    auth = raw.get("auth")
    if isinstance(auth, dict) and _text(auth.get("user")):
        password = auth.get("password")
        url.userinfo = (_text(auth["user"]), None if password is None else _text(password))
    entries = list_at(raw, "query")
    values = [e.get("value", "") for e in entries if isinstance(e, dict)]
    for param, value in zip(url.query, values, strict=False):
        if value is None:  # `?key` with no `=` (postman-collection QueryParam: value null)
            param.value = None
    return url


def _body(raw: Any, where: str, warnings: list[str]) -> Body | None:
    if not isinstance(raw, dict) or not raw:
        return None
    mode = _text(raw.get("mode"))
    if mode not in ("raw", "urlencoded", "formdata", "file", "graphql"):
        warnings.append(f"{where}.body: unknown mode {mode!r}; no body sent")
        return None
    options = dict_at(raw, "options")
    raw_opts = dict_at(options, "raw")
    file = dict_at(raw, "file")
    graphql = dict_at(raw, "graphql")
    return Body(
        mode=mode,
        raw=_text(raw.get("raw")),
        language=raw_opts.get("language") if isinstance(raw_opts.get("language"), str) else None,
        fields=_key_values(raw.get(mode), f"{where}.body.{mode}", warnings)
        if mode in ("urlencoded", "formdata")
        else [],
        file_src=file.get("src") if isinstance(file.get("src"), str) else None,
        file_content=file.get("content") if isinstance(file.get("content"), str) else None,
        graphql=graphql,
        disabled=raw.get("disabled") is True,
    )


def _request(raw: Any, where: str, warnings: list[str]) -> Request:
    if isinstance(raw, str):  # a plain URL string means GET
        return Request(url=Url(raw=raw))
    if not isinstance(raw, dict):
        warnings.append(f"{where}.request: expected a string or object; sending GET with no URL")
        return Request()
    method = raw.get("method")
    return Request(
        method=method.upper() if isinstance(method, str) and method else "GET",
        url=_url(raw.get("url"), where, warnings),
        headers=_key_values(raw.get("header"), f"{where}.header", warnings),
        body=_body(raw.get("body"), where, warnings),
        auth=_auth(raw.get("auth"), f"{where}.request", warnings),
    )


def _nodes(raw: Any, where: str, warnings: list[str], depth: int = 0) -> list[Item | Folder]:
    if not isinstance(raw, list):
        if raw is not None:
            warnings.append(f"{where}.item: expected a list; ignored")
        return []
    if depth > 64:
        warnings.append(f"{where}: folders nested deeper than 64 levels; ignored")
        return []
    nodes: list[Item | Folder] = []
    for index, node in enumerate(raw):
        if not isinstance(node, dict):
            warnings.append(f"{where}.item[{index}]: not an object; ignored")
            continue
        name = _text(node.get("name")) or f"item {index + 1}"
        here = f"{where} / {name}"
        if "item" in node:  # a folder is told apart by its `item` list (schema item-group)
            nodes.append(
                Folder(
                    name=name,
                    items=_nodes(node.get("item"), here, warnings, depth + 1),
                    id=_text(node.get("id") or node.get("_postman_id")),
                    auth=_auth(node.get("auth"), here, warnings),
                    events=_events(node.get("event"), here, warnings),
                    behaviour=_behaviour(node),
                )
            )
        else:
            if "request" not in node:
                warnings.append(f"{here}: item has no request")
            nodes.append(
                Item(
                    name=name,
                    request=_request(node.get("request"), here, warnings),
                    id=_text(node.get("id") or node.get("_postman_id")),
                    events=_events(node.get("event"), here, warnings),
                    behaviour=_behaviour(node),
                )
            )
    return nodes


def _behaviour(node: dict[str, Any]) -> dict[str, Any]:
    """``protocolProfileBehavior`` (followRedirects, disableBodyPruning, strictSSL...) or ``{}``."""
    value = node.get("protocolProfileBehavior")
    return dict(value) if isinstance(value, dict) else {}


def _variables(raw: Any, where: str, warnings: list[str]) -> list[Variable]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        warnings.append(f"{where}: expected a list of variables; ignored")
        return []
    out = []
    for entry in raw:
        if not isinstance(entry, dict):
            warnings.append(f"{where}: entry {entry!r:.40} is not an object; ignored")
            continue
        key = entry.get("key", entry.get("id"))
        if not isinstance(key, str) or not key:
            warnings.append(f"{where}: a variable has no key; ignored")
            continue
        out.append(
            Variable(
                key=key,
                value="" if entry.get("value") is None else entry.get("value"),
                type=_text(entry.get("type")) or "any",
                # Newman only honours `disabled: true`; the Postman app exports `enabled: false` (§1.3).
                disabled=entry.get("disabled") is True or entry.get("enabled") is False,
            )
        )
    return out


def parse_collection(data: Any, path: str = "<collection>") -> Collection:
    """A parsed JSON document to a ``Collection``; problems in its shape become warnings."""
    if not isinstance(data, dict):
        raise CollectionLoadError(path, f"a collection is a JSON object, this file holds a {type(data).__name__}")
    if "item" not in data and "info" not in data and isinstance(data.get("collection"), dict):
        data = data["collection"]  # the Postman API's export wrapper, `{"collection": {...}}` (Newman accepts it)
    if "item" not in data and isinstance(data.get("requests"), list):
        raise CollectionLoadError(path, "this is a Postman v1 collection; re-export it from Postman as v2.1")
    if "item" not in data and "info" not in data:
        raise CollectionLoadError(path, "no `info` and no `item`: this is not a Postman collection")
    warnings: list[str] = []
    info = dict_at(data, "info")
    if not info:
        warnings.append("collection has no `info` object")
    schema = _text(info.get("schema") or info.get("_postman_schema"))
    if schema and "v2.0.0" not in schema and "v2.1.0" not in schema and "2.0.0" not in schema:
        warnings.append(f"unexpected info.schema {schema!r}; reading it as v2.1")
    name = _text(info.get("name") or data.get("name")) or Path(path).stem
    return Collection(
        name=name,
        items=_nodes(data.get("item"), "collection", warnings),
        id=_text(info.get("_postman_id") or info.get("id")),
        schema=schema,
        auth=_auth(data.get("auth"), "collection", warnings),
        events=_events(data.get("event"), "collection", warnings),
        variables=_variables(data.get("variable"), "collection.variable", warnings),
        path=path,
        warnings=warnings,
        source=data,
        behaviour=_behaviour(data),
    )


def load_collection(path: str | Path) -> Collection:
    """Read a collection file (UTF-8, UTF-8 with BOM or UTF-16)."""
    return parse_collection(_read_json(path), str(path))


def _load_variable_file(path: str | Path, scope: str) -> VariableFile:
    data = _read_json(path)
    if isinstance(data, list):  # older Postman globals exports are a bare list of variables
        data = {"values": data}
    if not isinstance(data, dict):
        raise CollectionLoadError(
            str(path), f"a {scope} file is a JSON object with `values`, this file holds a {type(data).__name__}"
        )
    warnings: list[str] = []
    if "values" not in data:
        warnings.append(f"{scope} file has no `values` list")
    declared = data.get("_postman_variable_scope")
    if isinstance(declared, str) and declared not in (scope,):
        warnings.append(f"file says it is a {declared} file, read as {scope}")
    return VariableFile(
        name=_text(data.get("name")) or Path(path).stem,
        values=_variables(data.get("values"), f"{scope}.values", warnings),
        scope=scope,
        id=_text(data.get("id")),
        path=str(path),
        warnings=warnings,
    )


def load_environment(path: str | Path) -> VariableFile:
    """Read a ``*.postman_environment.json`` file."""
    return _load_variable_file(path, "environment")


def load_globals(path: str | Path) -> VariableFile:
    """Read a ``*.postman_globals.json`` file."""
    return _load_variable_file(path, "globals")


def load_iteration_data(path: str | Path, max_rows: int | None = None) -> list[dict[str, Any]]:
    """Iteration data: a JSON array of objects, else CSV with a header row (Newman `-d`).

    A CSV file is read as a stream, record by record: with ``max_rows`` (``-n``) only that many
    records are read, so a huge data file costs nothing beyond the rows a run uses.
    """
    try:
        handle = open_user_file(path, "file")
    except UserFileError as exc:
        raise CollectionLoadError(str(path), str(exc).split(": ", 1)[-1]) from None
    with handle:
        head = handle.read(4096)
        handle.seek(0)
        encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
        if encoding is None and len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
            encoding = "utf-16-be" if head[0] == 0 else "utf-16-le"
        try:
            start = head.decode(encoding or "utf-8", "ignore").lstrip("\ufeff").lstrip()
        except LookupError:
            start = ""
        if start.startswith(("[", "{")):
            data = _read_json(path)
            if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
                raise CollectionLoadError(str(path), "JSON iteration data must be an array of objects")
            return data
        if max_rows is None and os.fstat(handle.fileno()).st_size > MAX_INPUT_BYTES:
            raise CollectionLoadError(
                str(path),
                f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB; pass -n to read only the rows a run uses",
            )
        stream = io.TextIOWrapper(handle, encoding=encoding or "utf-8-sig", newline="")
        return _read_csv(path, stream, max_rows)


_MAX_CSV_LINE = 1 << 20  # characters; a longer line is not a data row


def _read_csv(path: str | Path, stream: io.TextIOWrapper, max_rows: int | None) -> list[dict[str, Any]]:
    """Records of a CSV stream as dicts keyed by the header row (Newman's csv-parse options:
    columns, trim, relaxed quotes and column count, runner-facts §5)."""
    line_number = 0

    def lines() -> Iterator[str]:
        nonlocal line_number
        while True:
            try:
                line = stream.readline(_MAX_CSV_LINE)
            except UnicodeDecodeError as exc:
                raise CollectionLoadError(
                    str(path), f"not valid text ({exc.reason}); save it as UTF-8", f"line {line_number + 1}"
                ) from None
            if not line:
                return
            line_number += 1
            if len(line) >= _MAX_CSV_LINE and not line.endswith("\n"):
                raise CollectionLoadError(str(path), "a line longer than 1 MiB", f"line {line_number}")
            yield line

    try:
        return parse_csv_records(lines(), max_rows)
    except csv.Error as exc:
        raise CollectionLoadError(str(path), f"not valid CSV: {exc}", f"line {line_number}") from None


def parse_variable_assignment(text: str, option: str = "--env-var") -> tuple[str, str]:
    """``"key=value"`` (the value may itself contain ``=``) to ``(key, value)``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        from ..errors import UsageError

        # Only the name is echoed: what follows may be a secret typed with the wrong separator.
        name = re.split(r"[:=\s]", text.strip(), maxsplit=1)[0][:64]
        raise UsageError(
            f"{option} expects key=value, got {name!r} followed by no '='; write it as {option} name=value"
        )
    return key.strip(), value
