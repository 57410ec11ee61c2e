"""Run a collection: yield events, never print (reporters listen; Newman's ``lib/run`` model).

A failed assertion is an event, not an exception; so is a request that could not be made. Only
per-item state is held, so memory does not grow with the number of iterations.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import requests

from ..errors import (
    AmbiguousSendError,
    GraphError,
    O365CheckError,
    SecretRoutingError,
    ServiceError,
    TokenError,
    UsageError,
)
from ..http import build_session, describe_connection_error, went_out
from ..redact import Redactor, is_secret_name
from ..transport import egress_of
from . import events as ev
from .auth import ClientCredentialsTokens, apply_auth, find_effective_auth, read_oauth2_settings
from .loading import _request as parse_request
from .model import Collection, Folder, Item, Script, VariableFile
from .requests_builder import (
    BuiltRequest,
    add_system_headers,
    apply_script_changes,
    body_template,
    build_request,
    join_url_template,
    merge_headers,
)
from .secret_guard import SecretGuard
from .secret_routing import oauth2_secret_literals, oauth2_secret_names
from .variables import VariableScopes, js_string, variables_to_dict

__all__ = ["CollectionRun", "RunConfig", "iter_run", "read_service_error"]


@dataclass
class RunConfig:
    """How to run: the inputs and options of ``o365check run`` (Newman's names in comments)."""

    environment: VariableFile | None = None  # -e
    globals: VariableFile | None = None  # -g
    iteration_data: list[dict[str, Any]] | None = None  # -d
    iterations: int | None = None  # -n
    folders: Sequence[str] = ()  # --folder
    env_vars: dict[str, str] = field(default_factory=dict)  # --env-var
    global_vars: dict[str, str] = field(default_factory=dict)  # --global-var
    bail: bool = False
    delay_request_ms: int = 0
    timeout_request_ms: int | None = None
    timeout_ms: int | None = None  # whole run
    timeout_script_ms: int | None = None
    allow_secret_to: Sequence[str] = ()
    base_dir: Path | None = None  # --working-dir: body files are read only under it (postman/files.py)
    insecure_file_read: bool = False  # --insecure-file-read: body files may come from anywhere
    verify: bool | str = True
    secret_names: Sequence[str] = ()  # --secret NAME: variables to treat as secrets whatever their name


def read_service_error(code: int, body: str, url: str) -> ServiceError | None:
    """A Microsoft identity (``{"error": "...", "error_codes": [...]}``) or Graph
    (``{"error": {"code", "message"}}``) error body as our error type; None for anything else."""
    if code < 400 or not body.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return GraphError.from_body(code, data, url=url)
    if isinstance(error, str):
        return TokenError.from_response(data, code, host)
    return None


def _is_send_mail(url: str) -> bool:
    return urlsplit(url).path.lower().rstrip("/").endswith("/sendmail")


def _sender_of(url: str) -> str:
    """``/v1.0/users/<sender>/sendMail`` -> ``<sender>`` (or "the sender")."""
    parts = [unquote(p) for p in urlsplit(url).path.split("/")]
    return parts[-2] if len(parts) >= 3 and parts[-3].lower() == "users" else "the sender"


def _load_script_engine(timeout_ms: int | None, send_request: Callable[[dict], dict]) -> tuple[Any, str]:
    """``(engine, "")`` or ``(None, reason)`` when the JavaScript engine cannot be used."""
    try:
        from .scripts import ScriptEngine
    except ImportError as exc:
        return None, f"the JavaScript engine is not available ({exc})"
    try:
        return ScriptEngine(timeout_ms=timeout_ms, send_request=send_request), ""
    except Exception as exc:
        return None, f"the JavaScript engine could not start ({type(exc).__name__}: {exc})"


class _LazyScriptEngine:
    """The run's JavaScript engine, started on the first script (a run without scripts pays nothing)."""

    def __init__(self, timeout_ms: int | None, send_request: Callable[[dict], dict]) -> None:
        self._timeout_ms, self._send_request = timeout_ms, send_request
        self._engine: Any = None
        self._reason = ""

    def get(self) -> tuple[Any, str]:
        """``(engine, "")``, or ``(None, reason)`` when it cannot start (the reason is kept)."""
        if self._engine is None and not self._reason:
            self._engine, self._reason = _load_script_engine(self._timeout_ms, self._send_request)
        return self._engine, self._reason

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


@dataclass(frozen=True)
class Cursor:
    """Where the run is: 0-based iteration of ``iterations``."""

    iteration: int
    iterations: int


@dataclass(frozen=True)
class NextRequest:
    """``pm.execution.setNextRequest(name)``; ``name`` None ends the iteration (``setNextRequest(null)``)."""

    name: str | None


@dataclass(frozen=True)
class ScriptsResult:
    """What one listener's scripts decided: the request view they left, a skip, a next request."""

    request: dict[str, Any]
    skip_request: bool = False
    next_request: NextRequest | None = None


@dataclass(frozen=True)
class PreparedRequest:
    """A signed request and the requests auth handler that must sign it on the wire (digest)."""

    built: BuiltRequest
    wire_auth: requests.auth.AuthBase | None = None
    behaviour: dict[str, Any] = field(default_factory=dict)  # protocolProfileBehavior


@dataclass(frozen=True)
class ItemOutcome:
    """How an item ended, for the loop: ``failed`` for --bail, ``next_request`` for the jump."""

    failed: bool = False
    next_request: NextRequest | None = None


_FAILURE_EVENTS = (ev.TestFailed, ev.RequestFailed, ev.ScriptFailed)
NEWMAN_MAX_REDIRECTS = 10  # postman-runtime requester default


def _tls_options(behaviour: dict[str, Any]) -> dict[str, Any]:
    """``verify=False`` for a request whose protocolProfileBehavior says ``strictSSL: false``."""
    return {"verify": False} if behaviour.get("strictSSL") is False else {}


def _referer_on_redirect(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """postman-request sends ``Referer: <the URL that redirected>`` on the request that follows."""
    if response.is_redirect and response.request is not None:
        response.request.headers["Referer"] = response.url
    return response


_T = TypeVar("_T")


def _noting_failures(events: Generator[ev.Event, None, _T]) -> Generator[ev.Event, None, tuple[_T, bool]]:
    """Pass ``events`` on; return their generator's value and whether any of them was a failure."""
    failed = False
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            return stop.value, failed
        failed = failed or isinstance(event, _FAILURE_EVENTS)
        yield event


class CollectionRun:
    """One run of a collection. ``events()`` drives it; ``scopes`` hold the live variables."""

    def __init__(
        self,
        collection: Collection,
        config: RunConfig | None = None,
        *,
        session: requests.Session | None = None,
        redactor: Redactor | None = None,
    ):
        self.collection = collection
        self.config = config or RunConfig()
        self.session = session or build_session(verify=self.config.verify)
        self.redactor = redactor if redactor is not None else Redactor()  # shared with a recorder
        # The egress rule lives on the session (o365check.transport): every request, pm.sendRequest,
        # token fetch and redirect hop is checked on the wire; the run only registers its secrets.
        self.egress = egress_of(self.session)
        self.egress.allow(self.config.allow_secret_to)
        self.tokens = ClientCredentialsTokens(self.session, timeout=self._request_timeout())
        cfg = self.config
        env = variables_to_dict(cfg.environment.values) if cfg.environment else {}
        glob = variables_to_dict(cfg.globals.values) if cfg.globals else {}
        env.update(cfg.env_vars)
        glob.update(cfg.global_vars)
        self.scopes = VariableScopes(globals_=glob, collection=variables_to_dict(collection.variables), environment=env)
        self.secret_keys = {v.key for f in (cfg.environment, cfg.globals) if f for v in f.values if v.secret}
        self.secret_keys |= {v.key for v in collection.variables if v.secret}
        # Classified before the first request: --secret names and the OAuth 2.0 helpers' secrets.
        self.secret_keys |= set(cfg.secret_names) | oauth2_secret_names(collection)
        self.guard = SecretGuard(self.egress, self.redactor, self.secret_keys)  # postman/secret_guard.py
        self._register_secrets(transient=False)  # the inputs' secrets: masked for the whole run
        self.guard.register_literals("clientSecret", oauth2_secret_literals(collection))
        # --timeout bounds every script too: an endless script cannot outlive the run's limit.
        limits = [ms for ms in (cfg.timeout_script_ms, cfg.timeout_ms) if ms]
        self._engine = _LazyScriptEngine(min(limits) if limits else None, self._send_script_request)
        self._script_item: Any = None  # the item whose script is running (pm.sendRequest reports under it)
        self._script_exchanges: list[ev.Event] = []

    # -- secrets ---------------------------------------------------------------------------
    def _register_secrets(self, transient: bool = True) -> None:
        """Mask secret-typed and secret-named values; route credentials (called after scripts too).

        Values learned during the run are transient (a bounded set, see ``redact.TRANSIENT_LIMIT``),
        so masking does not grow with the number of iterations."""
        for values in self.scopes.scopes.values():
            for key, value in values.items():
                if key in self.secret_keys or is_secret_name(key):
                    self.redactor.add(None if value is None else str(value), transient=transient)
        self.guard.register_scopes(self.scopes.scopes)

    def _mask_headers(self, headers: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        # Names too: a hostile collection may put a secret in a header's name.
        return tuple((self.redactor.text(k), str(self.redactor.value(k, v))) for k, v in headers)

    # -- scripts ---------------------------------------------------------------------------
    def _scripts_for(self, item: Item, parents: Sequence[Folder], listen: str) -> list[Script]:
        # collection, then folders outermost first, then the request (runner-facts §5 "event")
        chain = [*self.collection.events, *(s for f in parents for s in f.events), *item.events]
        return [s for s in chain if s.listen == listen]

    def _run_scripts(
        self,
        item: Item,
        parents: Sequence[Folder],
        listen: str,
        request: dict[str, Any],
        response: dict[str, Any] | None,
        cursor: Cursor,
    ) -> Generator[ev.Event, None, ScriptsResult]:
        """Run the item's scripts for ``listen``, yielding their events; return what they decided."""
        scripts = self._scripts_for(item, parents, listen)
        if not any(s.source.strip() for s in scripts):  # none, or only empty ones: no engine needed
            for _ in scripts:
                yield ev.ScriptRan(item.name, listen)  # Newman counts empty scripts as run
            return ScriptsResult(request)
        engine, reason = self._engine.get()
        if engine is None:
            yield ev.ScriptNotRun(item.name, listen, reason, len(scripts))
            return ScriptsResult(request)
        from .scripts import ScriptContext

        skip_request, next_request = False, None
        for script in scripts:
            if not script.source.strip():
                yield ev.ScriptRan(item.name, listen)
                continue
            info = {
                "eventName": listen,
                "iteration": cursor.iteration,
                "iterationCount": cursor.iterations,
                "requestName": item.name,
                "requestId": item.id,
            }
            context = ScriptContext(
                listen=listen, info=info, request=request, response=response, scopes=self.scopes.snapshot()
            )
            self.guard.script_starts(script.source, context.scopes, response)
            self._script_item, self._script_exchanges = item, []
            try:
                outcome = engine.run(script.source, context)
            except Exception as exc:
                self.guard.script_ended(listen, None)
                yield ev.ScriptFailed(item.name, listen, type(exc).__name__, self.redactor.text(str(exc)))
                continue
            finally:
                exchanges, self._script_exchanges = self._script_exchanges, []
            yield from exchanges  # pm.sendRequest calls, reported as requests of this item
            self.guard.script_ended(listen, outcome.scopes)
            yield ev.ScriptRan(item.name, listen)
            for method, url, refusal in self.guard.take_refusals():  # a refused pm.sendRequest fails the item
                yield ev.RequestFailed(item.name, method, url, refusal, "secret-routing")
            self.scopes.replace_all(outcome.scopes or {})
            self._register_secrets()
            for line in outcome.console or []:
                yield ev.ConsoleLogged(item.name, str(line[0]), self.redactor.text(str(line[1])))
            for test in outcome.tests or []:
                name = self.redactor.text(str(test.name))  # a test name may be built from a variable
                if test.skipped:
                    yield ev.TestSkipped(item.name, name, cursor.iteration)
                elif test.passed:
                    yield ev.TestPassed(item.name, name, cursor.iteration)
                else:
                    yield ev.TestFailed(item.name, name, self.redactor.text(test.error or "failed"), cursor.iteration)
            if outcome.error is not None:
                err = outcome.error
                yield ev.ScriptFailed(
                    item.name, listen, self.redactor.text(str(err.name)), self.redactor.text(err.message), err.line
                )
            if outcome.request:
                request = outcome.request
            if outcome.next_request_set:
                next_request = NextRequest(outcome.next_request or None)
            skip_request = skip_request or (listen == "prerequest" and bool(outcome.skip_request))
        return ScriptsResult(request, skip_request, next_request)

    def _send_script_request(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``pm.sendRequest``: the definition is read like a collection's request (all body modes,
        header forms, auth types the runner supports) and sent on the run's session; the secret-routing
        rule applies. Variables are not resolved, as in postman-runtime (its ``httprequest`` command
        skips resolution). The exchange is kept for ``_run_scripts`` to report as Newman does: as one
        more request of the item (``run.stats.requests``, the CLI's request line, the JSON report)."""
        warnings: list[str] = []
        request = parse_request(spec, "pm.sendRequest", warnings)
        body = request.body
        if body is not None and (body.mode == "file" or any(f.type == "file" for f in body.fields)):
            # postman-runtime strips files from script requests (event.command.js sanitizeFiles)
            self._script_exchanges.append(
                ev.ConsoleLogged(self._script_item.name, "warn", "uploading files from scripts is not allowed")
            )
            if body.mode == "file":
                request = replace(request, body=None)
            else:
                request = replace(request, body=replace(body, fields=[f for f in body.fields if f.type != "file"]))
        unresolved_scopes = VariableScopes()  # nothing to resolve against: {{x}} goes out verbatim
        # Newman sets disableBodyPruning for script requests: a GET from pm.sendRequest keeps its body.
        built = build_request(
            request,
            unresolved_scopes,
            base_dir=self.config.base_dir,
            insecure_file_read=self.config.insecure_file_read,
            behaviour={"disableBodyPruning": True},
        )
        warnings += built.warnings
        warnings += apply_auth(built, request.auth, unresolved_scopes)
        for warning in warnings:
            self._script_exchanges.append(ev.WarningIssued(warning, self._script_item.name))
        self._mask_script_credentials(request.auth)
        digest = None
        if request.auth is not None and request.auth.type == "digest":
            digest = requests.auth.HTTPDigestAuth(
                js_string(request.auth.params.get("username") or ""),
                js_string(request.auth.params.get("password") or ""),
            )
        events: list[ev.Event] = []
        sending = self._send(self._script_item, PreparedRequest(built, digest), script=True)
        while True:  # the events go to the item's report; the generator's return value is the response
            try:
                events.append(next(sending))
            except StopIteration as done:
                view = done.value
                break
        self._script_exchanges.extend(events)
        failed = next((e for e in events if isinstance(e, ev.RequestFailed)), None)
        if failed is not None or view is None:  # a refusal on the wire is one of these: the script sees it
            raise failed.error if failed is not None else UsageError("pm.sendRequest got no response")
        self.guard.response_received(str(view.get("body") or ""))
        return view

    def _mask_script_credentials(self, auth: Any) -> None:
        """A credential written into a pm.sendRequest auth block is masked like a collection's."""
        if auth is None:
            return
        params = {k: js_string(v) for k, v in auth.params.items() if v is not None}
        if auth.type in ("basic", "digest"):
            self.redactor.add_basic(params.get("username", ""), params.get("password", ""))
        for key in ("password", "token", "accessToken", "clientSecret", "secretKey", "authKey", "consumerSecret"):
            self.redactor.add(params.get(key))
        if auth.type == "apikey":
            self.redactor.add(params.get("value"))

    # -- requests --------------------------------------------------------------------------
    def _request_timeout(self) -> float | None:
        ms = self.config.timeout_request_ms
        return ms / 1000 if ms else None

    def _behaviour(self, item: Item, parents: Sequence[Folder]) -> dict[str, Any]:
        """protocolProfileBehavior: the collection's, overridden by each folder's, then the item's."""
        merged = dict(self.collection.behaviour)
        for folder in parents:
            merged.update(folder.behaviour)
        merged.update(item.behaviour)
        return merged

    def _prepare(self, item: Item, parents: Sequence[Folder]) -> Generator[ev.Event, None, PreparedRequest]:
        """Build and sign the request, yielding warnings and token events; return it ready to send."""
        built = build_request(
            item.request,
            self.scopes,
            base_dir=self.config.base_dir,
            insecure_file_read=self.config.insecure_file_read,
            behaviour=self._behaviour(item, parents),
        )
        for warning in built.warnings:
            yield ev.WarningIssued(warning, item.name)
        auth = find_effective_auth(item, parents, self.collection)
        token = None
        if auth is not None and auth.type == "oauth2":
            settings = read_oauth2_settings(auth, self.scopes, built.unresolved)
            if settings is not None:
                self.redactor.add(settings.client_secret)
                self.egress.register(settings.secret_variable, settings.client_secret)
                fetched = self.tokens.fetch_token(settings)
                self.redactor.add(fetched.access_token, transient=True)
                token = fetched.access_token
                yield ev.TokenFetched(
                    item.name,
                    settings.token_url,
                    settings.client_id,
                    settings.scope,
                    fetched.from_cache,
                    max(0, round(fetched.expires_at - self.tokens.clock())),
                )
        for warning in apply_auth(built, auth, self.scopes, access_token=token):
            yield ev.WarningIssued(warning, item.name)
        if auth is not None and auth.type == "basic":
            self.redactor.add_basic(
                self.scopes.resolve(str(auth.params.get("username") or "")),
                self.scopes.resolve(str(auth.params.get("password") or "")),
            )
            self.redactor.add(self.scopes.resolve(str(auth.params.get("password") or "")))
        wire_auth = None
        if auth is not None and auth.type == "digest" and built.header("Authorization") is None:
            wire_auth = requests.auth.HTTPDigestAuth(
                self.scopes.resolve(str(auth.params.get("username") or "")),
                self.scopes.resolve(str(auth.params.get("password") or "")),
            )
        if built.unresolved:
            yield ev.VariablesUnresolved(item.name, tuple(sorted(built.unresolved)))
        return PreparedRequest(built, wire_auth, self._behaviour(item, parents))

    def _send(
        self, item: Item, prepared: PreparedRequest, *, script: bool = False
    ) -> Generator[ev.Event, None, dict[str, Any] | None]:
        """Send, yielding RequestSent then ResponseReceived or RequestFailed; return the response as
        scripts see it (None when there is none)."""
        built = prepared.built
        yield ev.RequestSent(
            item.name,
            built.method,
            self.redactor.text(built.url),
            self._mask_headers(built.headers),
            self.redactor.data(built.body_view) if built.body_view else None,
        )
        if "{{" in built.host and built.header("Host") is None:
            # http.client cannot derive a Host header from such a name; Newman sends it verbatim
            built.headers.append(("Host", urlsplit(built.url).netloc.rpartition("@")[2]))
        started = time.perf_counter()
        # postman-runtime's redirect limit (protocolProfileBehavior.maxRedirects, default 10); requests
        # keeps it on the session, so it is set for this request only (the runner is single-threaded)
        limit = prepared.behaviour.get("maxRedirects")
        saved_limit = self.session.max_redirects
        self.session.max_redirects = limit if isinstance(limit, int) and limit >= 0 else NEWMAN_MAX_REDIRECTS
        try:
            # The item's own request is held to what its pre-request scripts may have read; a script's
            # pm.sendRequest is held by the taint set while that script runs (postman/secret_guard.py).
            with nullcontext() if script else self.guard.item_request():
                response = self.session.request(
                    built.method,
                    built.url,
                    headers=merge_headers(built.headers),
                    data=built.body,
                    timeout=self._request_timeout(),
                    auth=prepared.wire_auth,
                    allow_redirects=prepared.behaviour.get("followRedirects") is not False,
                    # request hooks replace the session's for the same event in requests, so keep those
                    hooks={"response": [*self.session.hooks.get("response", []), _referer_on_redirect]},
                    **_tls_options(prepared.behaviour),
                )
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            error = O365CheckError(
                f"cannot send to {self.redactor.text(built.url)!r}: not a URL requests can use ({self.redactor.text(str(exc))})"
            )
            yield ev.RequestFailed(item.name, built.method, self.redactor.text(built.url), error, "error")
            return None
        except SecretRoutingError as exc:  # refused on the wire (o365check.transport.egress)
            yield ev.RequestFailed(item.name, built.method, self.redactor.text(built.url), exc, "secret-routing")
            return None
        except O365CheckError as exc:  # e.g. a replayed cassette with no recorded answer for this request
            yield ev.RequestFailed(
                item.name,
                built.method,
                self.redactor.text(built.url),
                exc,
                "input" if isinstance(exc, UsageError) else "error",
            )
            return None
        except requests.RequestException as exc:
            if went_out(exc) and _is_send_mail(built.url):
                # The message may have been accepted: never say "nothing was sent" (issue 9 item 7).
                reason = (
                    "no answer came back in time" if isinstance(exc, requests.Timeout) else "the connection dropped"
                )
                ambiguous = AmbiguousSendError(_sender_of(built.url), reason)
                yield ev.RequestFailed(item.name, built.method, self.redactor.text(built.url), ambiguous, "error")
                return None
            if isinstance(exc, requests.ConnectionError):
                yield ev.RequestFailed(
                    item.name,
                    built.method,
                    self.redactor.text(built.url),
                    describe_connection_error(exc, built.url),
                    "connect",
                )
                return None
            error = describe_connection_error(exc, built.url)
            yield ev.RequestFailed(
                item.name,
                built.method,
                self.redactor.text(built.url),
                error,
                "timeout" if isinstance(exc, requests.Timeout) else "error",
            )
            return None
        except AssertionError:
            if "{{" not in built.host:
                raise
            # Newman sends it (through a proxy) or fails the DNS lookup; http.client cannot write a
            # Host header for it (an internal AssertionError), so say what is wrong instead.
            error = O365CheckError(
                f"cannot send to {self.redactor.text(built.url)!r}: the host name holds an unresolved variable; "
                "define it in the environment (-e), globals (-g) or with --env-var"
            )
            yield ev.RequestFailed(item.name, built.method, self.redactor.text(built.url), error, "error")
            return None
        except (ValueError, UnicodeError) as exc:  # a URL requests/urllib3 cannot parse (empty port...)
            error = O365CheckError(f"cannot send to {self.redactor.text(built.url)!r}: {self.redactor.text(str(exc))}")
            yield ev.RequestFailed(item.name, built.method, self.redactor.text(built.url), error, "error")
            return None
        finally:
            self.session.max_redirects = saved_limit
        elapsed = (time.perf_counter() - started) * 1000
        text = response.content.decode(response.encoding or "utf-8", "replace")
        headers = [(k, v) for k, v in response.headers.items()]
        yield ev.ResponseReceived(
            item.name,
            response.status_code,
            response.reason or "",
            self._mask_headers(headers),
            self.redactor.text(text),
            len(response.content),
            round(elapsed, 1),
            read_service_error(response.status_code, text, built.url),
        )
        view = {
            "code": response.status_code,
            "status": response.reason or "",
            "headers": [{"key": k, "value": v} for k, v in headers],
            "body": text,
            "responseTime": round(elapsed),
            "responseSize": len(response.content),
        }
        return view

    def _run_item(
        self, item: Item, parents: Sequence[Folder], cursor: Cursor
    ) -> Generator[ev.Event, None, NextRequest | None]:
        """Pre-request scripts, the request, test scripts; return the next request a script chose."""
        self.guard.item_starts()
        template = {
            "url": join_url_template(item.request.url),
            "method": item.request.method,
            "headers": [{"key": h.key, "value": h.value} for h in item.request.headers if not h.disabled],
            "body": body_template(item.request.body),
        }
        before = yield from self._run_scripts(item, parents, "prerequest", template, None, cursor)
        yield ev.ScriptsCompleted(item.name, "prerequest")
        if before.skip_request:
            return before.next_request
        try:
            prepared = yield from self._prepare(item, parents)
        except SecretRoutingError as exc:
            yield ev.RequestFailed(item.name, item.request.method, "", exc, "secret-routing")
            return before.next_request
        except TokenError as exc:
            yield ev.RequestFailed(item.name, "POST", "", exc, "token")
            return before.next_request
        except O365CheckError as exc:
            kind = "connect" if exc.exit_code == 3 else "input" if isinstance(exc, UsageError) else "error"
            yield ev.RequestFailed(item.name, item.request.method, "", exc, kind)
            return before.next_request
        if before.request is not template:
            apply_script_changes(prepared.built, before.request, template, self.scopes)
        add_system_headers(prepared.built)
        response = yield from self._send(item, prepared)
        # test scripts run after a failed request too, with no response (postman-runtime)
        after = yield from self._run_scripts(item, parents, "test", prepared.built.script_view(), response, cursor)
        yield ev.ScriptsCompleted(item.name, "test")
        return after.next_request or before.next_request

    def _run_item_safely(
        self, item: Item, parents: Sequence[Folder], cursor: Cursor
    ) -> Generator[ev.Event, None, ItemOutcome]:
        """``_run_item``, with an unexpected fault reported as this item's failure, not a crash."""
        next_request: NextRequest | None = None
        try:
            next_request, failed = yield from _noting_failures(self._run_item(item, parents, cursor))
        except Exception as exc:
            error = O365CheckError(
                f"the runner failed on this item ({type(exc).__name__}: {self.redactor.text(str(exc))})"
            )
            yield ev.RequestFailed(item.name, item.request.method, "", error, "error")
            failed = True
        return ItemOutcome(failed, next_request)

    # -- the run ---------------------------------------------------------------------------
    def events(self) -> Iterator[ev.Event]:
        """Run the collection, yielding events as they happen."""
        cfg, started = self.config, time.time()
        data = cfg.iteration_data or []
        iterations = max(1, cfg.iterations or len(data) or 1)
        plan = list(self.collection.iter_items(cfg.folders))
        yield ev.RunStarted(self.collection.name, iterations, len(plan), started)
        for warning in self.collection.warnings:
            yield ev.WarningIssued(warning)
        for name in cfg.folders:
            if not self.collection.find_folder(name):
                yield ev.WarningIssued(f"--folder {name!r}: no folder or request has this name")
        reason = ""
        try:
            for iteration in range(iterations if plan else 0):  # Newman runs no iteration of an empty plan
                cursor = Cursor(iteration, iterations)
                self.scopes.scopes["iterationData"] = dict(data[min(iteration, len(data) - 1)]) if data else {}
                self._register_secrets()
                yield ev.IterationStarted(iteration, iterations)
                reason = yield from self._run_iteration(plan, cursor, started)
                yield ev.IterationCompleted(iteration, iterations)
                if reason:
                    break
        finally:
            self._engine.close()
        yield ev.RunCompleted(
            started,
            time.time(),
            bool(reason),
            reason,
            environment=self.redactor.data(self.export_scope("environment")),
            globals=self.redactor.data(self.export_scope("globals")),
        )

    def _run_iteration(
        self, plan: list[tuple[Item, tuple[Folder, ...]]], cursor: Cursor, started: float
    ) -> Generator[ev.Event, None, str]:
        """One pass over the plan (jumps by setNextRequest); return why the run must stop, or ""."""
        cfg = self.config
        index, first_in_run = 0, cursor.iteration == 0
        while index < len(plan):
            item, parents = plan[index]
            if cfg.delay_request_ms and not first_in_run:  # never sleeps past --timeout
                left = cfg.timeout_ms - (time.time() - started) * 1000 if cfg.timeout_ms else None
                time.sleep(max(0.0, min(cfg.delay_request_ms, left if left is not None else 1e12)) / 1000)
            if cfg.timeout_ms and (time.time() - started) * 1000 >= cfg.timeout_ms:
                return f"the run took longer than --timeout {cfg.timeout_ms} ms"
            first_in_run = False
            yield ev.ItemStarted(cursor.iteration, item.name, item.id, tuple(f.name for f in parents))
            outcome = yield from self._run_item_safely(item, parents, cursor)
            yield ev.ItemCompleted(cursor.iteration, item.name, item.id)
            if outcome.failed and cfg.bail:
                return f"--bail: stopped after the first failure (in {item.name!r})"
            index = _next_index(plan, index, outcome.next_request)
        return ""

    def export_scope(self, scope: str) -> dict[str, Any]:
        """A scope as a Postman variable file body: ``{"values": [{key, value, type, enabled}]}``
        (unmasked; callers mask unless the user asked for secrets)."""
        values = [
            {"key": k, "value": v, "type": "secret" if k in self.secret_keys else "default", "enabled": True}
            for k, v in self.scopes.scopes.get(scope, {}).items()
        ]
        source = self.config.environment if scope == "environment" else self.config.globals
        return {
            "id": source.id if source else "",
            "name": source.name if source else scope,
            "values": values,
            "_postman_variable_scope": scope,
        }


def _next_index(plan: list[tuple[Item, tuple[Folder, ...]]], index: int, chosen: NextRequest | None) -> int:
    """The next item: the following one, or the one named by ``pm.execution.setNextRequest``."""
    if chosen is None:
        return index + 1
    if not chosen.name:  # setNextRequest(null): end this iteration
        return len(plan)
    for position, (item, _) in enumerate(plan):
        if chosen.name in (item.name, item.id):
            return position
    return len(plan)  # an unknown name ends the iteration, as in Newman


def iter_run(
    collection: Collection, config: RunConfig | None = None, *, session: requests.Session | None = None
) -> Iterator[ev.Event]:
    """Run ``collection`` and yield its events (see ``events.py``); never prints, never raises for a
    failed test or request."""
    return CollectionRun(collection, config, session=session).events()
