"""Record and replay every exchange as a scrubbed vcrpy cassette.

Recording happens at the requests-adapter level (``http.build_session(recorder=...)`` wraps every
mounted adapter), because the sandbox answers in-process and vcrpy's own urllib3 patching never
sees that traffic. The files are ordinary vcrpy cassettes (``vcr.cassette.Cassette``, YAML,
format version 1, with vcrpy's ``metadata`` block), so pytest-recording can load them too, and
they keep the real host names (login.microsoftonline.com, graph.microsoft.com).

Scrubbing: one configuration, :func:`vcr_config`, used by the CLI, the notebooks and the tests'
``vcr_config`` fixture. Placeholders are stable, so a re-recording gives the same file and a
replay still matches:

- ``client_secret`` / ``client_assertion`` (form or JSON body, query): ``o365check-redacted``
- ``Authorization: Basic ...``: ``Basic o365check-redacted``
- tokens (``access_token``, ``refresh_token``, ``id_token`` in JSON bodies, ``Bearer`` values):
  a JWT ``header.payload.signature`` becomes ``o365check-redacted.<payload>``. The payload (the
  claims: aud, tid, appid, roles, exp... nothing secret) stays readable for
  ``claims.read_unverified_claims``, while the signature is gone, so the value is useless as a
  token and not JWT-shaped. Any other token becomes ``o365check-redacted``.
- ``Cookie`` and ``Set-Cookie``: removed. Volatile request headers (``client-request-id``, MSAL's
  ``x-client-*`` telemetry, ``Postman-Token``): removed (never matched on).
- volatile response headers: ``Date`` -> ``Sat, 01 Jan 2000 00:00:00 GMT``; request ids ->
  ``00000000-0000-0000-0000-000000000000``; ``x-ms-ests-server`` / ``x-ms-ags-diagnostic`` ->
  ``o365check-redacted``. The caller sees these placeholders while recording too, so a recorded
  run and its replay give the same report.
- any value the settings know to be secret (``Settings.redactor``), wherever else it appears.

Matching is on method, scheme, host, port, path, query and body (form and JSON parsed), with the
live request scrubbed the same way first: a cassette recorded with one secret replays with any
other. A replay mismatch raises :class:`~o365check.errors.ReplayMismatchError` (masked), never
vcrpy's own message, which prints the live body (reference notebook-testing §1.6 #1).

On replay, the time claims of a placeholder token (``iat``, ``nbf``, ``exp``) move forward by the
time since it was issued, so a token that was fresh when recorded is fresh when replayed.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import requests
import vcr
import yaml
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from vcr import filters
from vcr.cassette import Cassette
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request
from vcr.serialize import deserialize, serialize

from . import __version__
from .errors import CassetteError, ReplayMismatchError
from .redact import Redactor, is_secret_name
from .user_files import read_user_bytes, writable_target, write_private_text

__all__ = [
    "MATCH_ON",
    "RECORD_MODES",
    "REDACTED",
    "TOKEN_PREFIX",
    "CassetteRecorder",
    "open_cassette",
    "redact_token",
    "scrub_request",
    "scrub_response",
    "stand_in_secret",
    "vcr_config",
]

REDACTED = "o365check-redacted"
TOKEN_PREFIX = REDACTED + "."
MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "body")
# vcrpy's modes, plus pytest-recording's "rewrite" (start the file afresh, then record).
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
PLACEHOLDER_DATE = "Sat, 01 Jan 2000 00:00:00 GMT"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"

_SECRET_FIELDS = ("client_secret", "client_assertion")
_TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")
_VOLATILE_REQUEST_HEADERS = ("client-request-id", "return-client-request-id", "postman-token", "cookie")
_VOLATILE_RESPONSE_HEADERS = {
    "date": PLACEHOLDER_DATE,
    "request-id": PLACEHOLDER_ID,
    "client-request-id": PLACEHOLDER_ID,
    "x-ms-request-id": PLACEHOLDER_ID,
    "x-ms-correlation-id": PLACEHOLDER_ID,
    "x-ms-ests-server": REDACTED,
    "x-ms-ags-diagnostic": REDACTED,
    "x-ms-clitelem": REDACTED,
}
_DROPPED_RESPONSE_HEADERS = ("set-cookie", "content-encoding", "transfer-encoding")
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$")
_PLACEHOLDER_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"([A-Za-z0-9_-]+)")


# ----------------------------------------------------------------------------- scrubbing
def redact_token(token: str) -> str:
    """The placeholder for a token: ``o365check-redacted.<payload>`` for a JWT, else ``o365check-redacted``."""
    if token == REDACTED or _PLACEHOLDER_TOKEN.fullmatch(token):
        return token
    match = _JWT.match(token)
    return TOKEN_PREFIX + match.group(1) if match else REDACTED


def _redact_authorization(value: str) -> str:
    scheme, _, credential = value.partition(" ")
    if scheme.lower() == "bearer":
        return f"{scheme} {redact_token(credential.strip())}"
    return f"{scheme} {REDACTED}" if credential else REDACTED


def _text(body: Any) -> str | None:
    """A body as text; bytes that are not UTF-8 keep their bytes as surrogates (so they are scrubbed
    too, and ``_encode`` gives them back unchanged)."""
    if body is None or isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8", "surrogateescape")
    except TypeError:
        return None


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _scrub_json(data: Any, redactor: Redactor | None) -> Any:
    """Tokens and secrets in a parsed JSON body by name, at any depth; known secrets by value."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key in _TOKEN_FIELDS and isinstance(value, str) and value:
                out[key] = redact_token(value)
            elif key in _SECRET_FIELDS and value:
                out[key] = REDACTED
            else:
                out[key] = _scrub_json(value, redactor)
        return out
    if isinstance(data, list):
        return [_scrub_json(v, redactor) for v in data]
    if isinstance(data, str) and redactor is not None:
        return redactor.text(data)
    return data


def _secret_named(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Placeholders for the fields of a query string or form body whose names are secret by nature."""
    names = {k for k, _ in pairs if is_secret_name(k) and k not in _TOKEN_FIELDS}
    return [(name, REDACTED) for name in sorted(names | set(_SECRET_FIELDS + _TOKEN_FIELDS))]


def scrub_request(request: Request, redactor: Redactor | None = None) -> Request:
    """A scrubbed copy of a vcrpy request (vcrpy's ``before_record_request``; also run before matching)."""
    request = copy.deepcopy(request)
    for name in list(request.headers):
        lowered = name.lower()
        if lowered in _VOLATILE_REQUEST_HEADERS or lowered.startswith("x-client-"):
            del request.headers[name]
        elif lowered in ("authorization", "proxy-authorization"):
            request.headers[name] = _redact_authorization(str(request.headers[name]))
        elif is_secret_name(name):  # X-Api-Key, X-Auth-Token, Ocp-Apim-Subscription-Key...
            request.headers[name] = REDACTED
        elif redactor is not None:  # a known secret in a custom header
            request.headers[name] = redactor.text(str(request.headers[name]))
    request = filters.replace_query_parameters(request, _secret_named(parse_qsl(request.parsed_uri.query)))
    if redactor is not None:
        request.uri = redactor.text(request.uri)
    text = _text(request.body)
    is_json = "json" in str(request.headers.get("Content-Type", "")).lower()
    if text and is_json:
        try:  # parsed here: vcrpy's filter only knows exactly "application/json" (reference §1.6 #2)
            request.body = json.dumps(_scrub_json(json.loads(text), redactor), separators=(",", ":"))
            is_json = True
        except ValueError:
            is_json = False
    if text and not is_json:
        if redactor is not None:  # a known secret anywhere; named fields get their placeholder next
            request.body = _encode(redactor.text(text))
        if "=" in text:
            named = _secret_named(parse_qsl(text, keep_blank_values=True))
            request = filters.replace_post_data_parameters(request, named)
    if request.body is not None and "Content-Length" in request.headers:
        request.headers["Content-Length"] = str(len(request.body))  # the live length reveals the secret's
    return request


def normalize_response_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """Volatile response headers replaced by their stable placeholders; cookies and encodings dropped."""
    out: dict[str, Any] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _DROPPED_RESPONSE_HEADERS:
            continue
        placeholder = _VOLATILE_RESPONSE_HEADERS.get(lowered)
        out[name] = value if placeholder is None else ([placeholder] if isinstance(value, list) else placeholder)
    return out


def _scrub_response_headers(headers: dict[str, Any], redactor: Redactor | None) -> dict[str, Any]:
    """Secret-named response headers (``X-Auth-Token``...) get the placeholder; known secrets and
    tokens are masked in every other value (``Location`` echoing a query, say)."""
    out: dict[str, Any] = {}
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        if is_secret_name(name):
            values = [REDACTED for _ in values]
        elif redactor is not None:
            values = [redactor.text(str(v)) for v in values]
        out[name] = values if isinstance(value, list) else values[0]
    return out


def scrub_response(response: dict[str, Any], redactor: Redactor | None = None) -> dict[str, Any]:
    """A scrubbed copy of a vcrpy response dict (vcrpy's ``before_record_response``)."""
    response = copy.deepcopy(response)
    response["headers"] = _scrub_response_headers(normalize_response_headers(response.get("headers", {})), redactor)
    body = response.get("body", {}).get("string")
    text = _text(body)
    if text:
        try:
            data = json.loads(text)
            clean = _scrub_json(data, redactor)
            scrubbed = text if clean == data else json.dumps(clean)
        except ValueError:
            scrubbed = redactor.text(text) if redactor is not None else text
        if scrubbed != text:
            response["body"]["string"] = _encode(scrubbed)
            for name in response["headers"]:
                if name.lower() == "content-length":
                    response["headers"][name] = [str(len(response["body"]["string"]))]
    return response


def vcr_config(redactor: Redactor | None = None) -> dict[str, Any]:
    """The one scrubbing configuration, as ``vcr.VCR``/``use_cassette`` keyword arguments.

    pytest-recording's ``vcr_config`` fixture returns this; the recorder below uses it too.
    """
    return {
        "before_record_request": lambda request: scrub_request(request, redactor),
        "before_record_response": lambda response: scrub_response(response, redactor),
        "decode_compressed_response": True,
        "match_on": MATCH_ON,
    }


# ----------------------------------------------------------------------------- the recorder
def _vcr_request(prepared: requests.PreparedRequest) -> Request:
    body = prepared.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Request(prepared.method or "GET", prepared.url or "", body, dict(prepared.headers))


def _response_dict(response: requests.Response) -> dict[str, Any]:
    return {
        "status": {"code": response.status_code, "message": response.reason or ""},
        "headers": {name: [value] for name, value in response.headers.items()},
        "body": {"string": response.content or b""},
    }


def _shift_time_claims(body: bytes, now: float) -> bytes:
    """Move iat/nbf/exp of placeholder tokens forward to ``now`` (see the module docstring)."""

    def shifted(match: re.Match[bytes]) -> bytes:
        segment = match.group(1).decode()
        try:
            claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
            delta = int(now - float(claims["iat"]))
        except (ValueError, KeyError, TypeError):
            return match.group(0)
        for claim in ("iat", "nbf", "exp"):
            if isinstance(claims.get(claim), (int, float)):
                claims[claim] = int(claims[claim]) + delta
        encoded = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=")
        return TOKEN_PREFIX.encode() + encoded

    return re.sub(_PLACEHOLDER_TOKEN.pattern.encode(), shifted, body)


def _build_response(
    prepared: requests.PreparedRequest, recorded: dict[str, Any], body: bytes, adapter: BaseAdapter
) -> requests.Response:
    headers = CaseInsensitiveDict({k: (v[0] if isinstance(v, list) else v) for k, v in recorded["headers"].items()})
    if "content-length" in headers:
        headers["Content-Length"] = str(len(body))
    response = requests.Response()
    response.status_code = int(recorded["status"]["code"])
    response.reason = recorded["status"].get("message", "")
    response.headers = headers
    response.encoding = get_encoding_from_headers(headers)
    response.raw = HTTPResponse(
        body=io.BytesIO(body),
        headers=dict(headers),
        status=response.status_code,
        reason=response.reason,
        preload_content=False,
        decode_content=False,
    )
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]  # requests' own flag, untyped
    response.url = prepared.url or ""
    response.request = prepared
    response.elapsed = timedelta(0)
    response.connection = adapter  # type: ignore[assignment]  # requests reads .connection as any adapter
    return response


class _RecordingAdapter(BaseAdapter):
    """Answers from the cassette when it can; otherwise asks ``inner`` and records (if allowed)."""

    def __init__(self, recorder: CassetteRecorder, inner: BaseAdapter):
        super().__init__()
        self.recorder, self.inner = recorder, inner

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        return self.recorder._send(self, request, kwargs)

    def close(self) -> None:
        self.inner.close()


class _UserFilePersister:
    """vcrpy's persister interface over ``user_files``: a cassette is read only from a regular file
    of bounded size, and saved atomically (never by truncating the file the user named)."""

    def __init__(self, *, fresh: bool):
        self.fresh = fresh

    def load_cassette(self, cassette_path: str, serializer: Any) -> Any:
        if self.fresh or not os.path.lexists(cassette_path):
            raise CassetteNotFoundError()
        data = read_user_bytes(cassette_path, "cassette")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CassetteError(
                f"{cassette_path!r} is not a readable vcrpy cassette (not UTF-8 at byte {exc.start}); re-record it"
            ) from None
        if not text.strip():
            raise CassetteNotFoundError()
        return deserialize(text, serializer)

    def save_cassette(self, cassette_path: str, cassette_dict: dict[str, Any], serializer: Any) -> None:
        write_private_text(cassette_path, serialize(cassette_dict, serializer), "cassette")


def _where(exc: BaseException) -> str:
    """A YAML error's position, or the kind of error (never the content: it may hold a secret)."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return f"YAML error at line {mark.line + 1}, column {mark.column + 1}"
    return type(exc).__name__


def _check_interactions(cassette: Cassette) -> None:
    """Every recorded answer has the shape replay reads (status code, headers, body string)."""
    for number, (_, response) in enumerate(cassette.data, 1):
        try:
            int(response["status"]["code"])
            assert isinstance(response["headers"], dict)
            body = response["body"]["string"]
            assert body is None or isinstance(body, (bytes, str))
        except (KeyError, TypeError, ValueError, AssertionError):
            raise ValueError(f"interaction {number} has no usable response") from None


class CassetteRecorder:
    """One cassette, used by every adapter of a session (``http.build_session(recorder=...)``).

    ``replaying`` is True when nothing will be recorded (mode ``none``, or ``once`` with an
    existing file): then the wrapped adapters are never called and no socket is opened.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        mode: str = "none",
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.time,
    ):
        if mode not in RECORD_MODES:
            raise CassetteError(
                f"record mode {mode!r} is not one of {', '.join(RECORD_MODES)} (O365CHECK_RECORD_MODE / --record-mode)"
            )
        self.path, self.mode = Path(path), mode
        self.redactor = redactor or Redactor()
        self._clock = clock
        if mode == "none" and not os.path.lexists(self.path):
            raise CassetteError(f"cassette {str(self.path)!r} does not exist; record it first (--record {self.path})")
        if mode != "none":
            writable_target(self.path, "cassette")  # a FIFO, device or directory is refused, never replaced
        config = vcr.VCR(**vcr_config(self.redactor)).get_merged_config(
            path=str(self.path), record_mode="new_episodes" if mode == "rewrite" else mode
        )
        config.pop("path_transformer", None)
        config.pop("func_path_generator", None)
        config.pop("record_on_exception", None)
        # "rewrite" starts afresh without removing the file: it is replaced atomically on the first save.
        config["persister"] = _UserFilePersister(fresh=mode == "rewrite")
        try:
            self.cassette = Cassette.load(**config)
            _check_interactions(self.cassette)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError, yaml.YAMLError) as exc:
            raise CassetteError(
                f"{str(self.path)!r} is not a readable vcrpy cassette ({_where(exc)}); re-record it"
            ) from None
        except RecursionError:
            raise CassetteError(f"{str(self.path)!r} is not a readable vcrpy cassette (nested too deeply)") from None

    def __repr__(self) -> str:
        return f"CassetteRecorder({str(self.path)!r}, mode={self.mode!r}, {len(self.cassette)} interaction(s))"

    @property
    def replaying(self) -> bool:
        return bool(self.cassette.write_protected)

    @property
    def metadata(self) -> dict[str, Any]:
        """What o365check wrote beside the interactions: target label, settings, stand-in secret."""
        return dict(self.cassette._metadata.get("o365check") or {})

    def describe_recording(self, metadata: dict[str, Any]) -> None:
        """Store what was recorded against (saved with the cassette; ignored when replaying)."""
        if not self.replaying:
            self.cassette._metadata["o365check"] = {"recorded_with": f"o365check {__version__}", **metadata}
            self.cassette.dirty = True

    def wrap(self, adapter: BaseAdapter) -> BaseAdapter:
        return _RecordingAdapter(self, adapter)

    def close(self) -> None:
        """Save what was recorded (a replay changes nothing)."""
        if not self.replaying and self.cassette.dirty:
            self.cassette._save()

    def _send(
        self, adapter: _RecordingAdapter, prepared: requests.PreparedRequest, kwargs: dict[str, Any]
    ) -> requests.Response:
        live = _vcr_request(prepared)
        if self.cassette.can_play_response_for(live):
            recorded = self.cassette.play_response(live)
            body = _shift_time_claims(recorded["body"]["string"] or b"", self._clock())
            return _build_response(prepared, recorded, body, adapter)
        if self.replaying:
            raise self._mismatch(live)
        response = adapter.inner.send(prepared, **kwargs)
        # The caller sees the same (non-secret) placeholders the replay will show.
        response.headers = CaseInsensitiveDict(normalize_response_headers(dict(response.headers)))
        self.cassette.append(live, _response_dict(response))
        self.cassette._save()  # at once: a notebook kernel may never call close()
        return response

    def _mismatch(self, live: Request) -> ReplayMismatchError:
        """Which request did not match, the closest recorded one and what differed, masked."""
        scrubbed = self.cassette.filter_request(live)
        described = self.redactor.text(f"{scrubbed.method} {scrubbed.uri}")
        candidates = self.cassette.find_requests_with_most_matches(live)
        if not candidates:
            return ReplayMismatchError(str(self.path), described, None, [])
        closest, _, failures = candidates[0]
        differences = [_difference(name, scrubbed, closest, self.redactor) for name, _ in failures]
        if not failures:
            differences = ["nothing: its recorded answer was already played (each answer plays once)"]
        return ReplayMismatchError(
            str(self.path), described, self.redactor.text(f"{closest.method} {closest.uri}"), differences
        )


def _fields(request: Request) -> dict[str, Any] | None:
    text = _text(request.body)
    if not text:
        return {}
    if "json" in str(request.headers.get("Content-Type", "")).lower():
        try:
            return _flatten(json.loads(text))
        except ValueError:
            return None
    from urllib.parse import parse_qsl

    return dict(parse_qsl(text, keep_blank_values=True))


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}``: differences then name the leaf that changed."""
    if isinstance(data, dict):
        items = [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        items = [(f"{prefix}[{i}]", v) for i, v in enumerate(data)]
    else:
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in items:
        flat.update(_flatten(value, key))
    return flat


def _difference(matcher: str, live: Request, recorded: Request, redactor: Redactor) -> str:
    """One line saying how ``live`` differs from ``recorded`` for ``matcher`` (values masked)."""

    def show(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        text = redactor.text(text)
        return text if len(text) <= 80 else text[:77] + "..."

    if matcher == "body":
        mine, theirs = _fields(live), _fields(recorded)
        if mine is None or theirs is None:
            return "body: the bodies differ"
        changed = [
            f"{key}: {show(mine.get(key, '(absent)'))} instead of {show(theirs.get(key, '(absent)'))}"
            for key in sorted(set(mine) | set(theirs))
            if mine.get(key) != theirs.get(key)
        ]
        return "body: " + ("; ".join(changed) or "the bodies differ")
    parsed_live, parsed_recorded = live.parsed_uri, recorded.parsed_uri
    values = {
        "method": (live.method, recorded.method),
        "scheme": (parsed_live.scheme, parsed_recorded.scheme),
        "host": (parsed_live.hostname, parsed_recorded.hostname),
        "port": (live.port, recorded.port),
        "path": (parsed_live.path, parsed_recorded.path),
        "query": (parsed_live.query, parsed_recorded.query),
    }
    if matcher in values:
        now, then = values[matcher]
        return f"{matcher}: {show(str(now))} instead of {show(str(then))}"
    return matcher


def stand_in_secret(secret: str) -> str:
    """A made-up value the settings checks judge exactly like ``secret`` (same length and shape:
    GUID-shaped, placeholder, padded with spaces, or plain), stored in the cassette so a replay
    with no secret reports the same settings warnings as the recorded run."""
    from .settings import Secret, Settings  # here: settings imports nothing of ours that imports us

    def verdict(value: str) -> list[str]:
        return sorted(
            f"{p.code}: {p.value}"
            for p in Settings(client_secret=Secret(value)).problems()
            if p.code.startswith("secret")
        )

    core = secret.strip()
    lead, trail = secret[: len(secret) - len(secret.lstrip())], secret[len(secret.rstrip()) :]
    filler = ("o365check-stand-in-" * (len(core) // 19 + 1))[: len(core)]
    for candidate in (PLACEHOLDER_ID, "x" * len(core), filler):
        if verdict(lead + candidate + trail) == verdict(secret):
            return lead + candidate + trail
    return "o365check-stand-in"


def open_cassette(
    path: str | Path, *, mode: str = "none", settings: Any = None, clock: Callable[[], float] = time.time
) -> CassetteRecorder:
    """A recorder for ``path``: ``mode`` ``none`` replays only (network blocked); the others record.

    ``settings`` (an ``o365check.settings.Settings``) supplies the secrets to mask by value.
    """
    redactor = settings.redactor() if settings is not None else Redactor()
    return CassetteRecorder(path, mode=mode or "none", redactor=redactor, clock=clock)
