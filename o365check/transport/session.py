"""The one way out: a ``requests`` Session whose every request passes one adapter.

:func:`build_session` mounts a single :class:`TransportAdapter` for ``http://`` and ``https://``.
``requests`` calls ``adapter.send(prepared_request)`` once per hop (``Session.send`` and
``Session.resolve_redirects``; digest auth re-sends through ``response.connection``), with the
final method, URL, headers and body, after every script has run. The adapter is layered:

1. egress: :meth:`o365check.transport.egress.Egress.check` refuses a request that would carry a
   secret somewhere it may not go (on the URL urllib3 will connect to, through the proxy
   requests picked);
2. cassette: a :class:`o365check.recording.CassetteRecorder` answers from the cassette (replay)
   or records what the next layer answers (record);
3. delivery: the Microsoft host names go to the in-process sandbox when there is one; anything
   else goes to the network (``HTTPAdapter.send``: default timeout, connect-only retries, CA
   handling).

An adapter mounted on the session later (by a library user or a test) does not escape the rule:
``get_adapter`` puts the egress check in front of it.

- Timeouts: a default (connect, read) timeout on every request.
- Retries: only for connection failures *before* anything was sent (urllib3 ``connect`` retries).
  A request that may have reached the server is never retried here: Retry-After handling is the
  caller's (graph.py), because only it knows whether a retry could send a second e-mail.
- CA handling: ``verify`` may be a CA bundle path; it wins over REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE,
  which requests otherwise lets override a session's setting (reference §2.3 gotcha). With
  ``verify=True`` those variables are honoured, as everywhere in requests.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol
from urllib.parse import urlparse

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.util.retry import Retry

from .. import __version__
from ..redact import Redactor
from .egress import Egress, host_of

__all__ = ["DEFAULT_TIMEOUT", "TransportAdapter", "build_session", "egress_of"]

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)  # (connect, read) seconds
log = logging.getLogger("o365check.http")
_PATTERN_REDACTOR = Redactor()  # knows no values: masks secret fields by name, tokens by shape


class _Mountable(Protocol):
    app: Any


class _Recorder(Protocol):
    def wrap(self, adapter: Any) -> Any: ...


class _Layer(BaseAdapter):
    """The rest of the stack below the cassette, as the adapter object the recorder wraps."""

    def __init__(self, send: Any):
        super().__init__()
        self._send = send

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        return self._send(request, **kwargs)

    def close(self) -> None:
        pass


class TransportAdapter(HTTPAdapter):
    """Egress check, then the cassette (if any), then the sandbox (Microsoft hosts) or the network."""

    def __init__(
        self,
        egress: Egress,
        *,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        sandbox: _Mountable | None = None,
        recorder: _Recorder | None = None,
    ):
        self.egress = egress
        self._timeout = timeout
        super().__init__(
            max_retries=Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0, raise_on_status=False)
        )
        self._sandbox: BaseAdapter | None = None
        if sandbox is not None:
            from ..sandbox.hosts import MICROSOFT_HOSTS as routed
            from ..sandbox.routing import SandboxAdapter

            self._sandbox, self._routed = SandboxAdapter(sandbox.app), routed
        self._below: BaseAdapter = _Layer(self._deliver)
        if recorder is not None:
            self._below = recorder.wrap(self._below)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.egress.check(request, kwargs.get("proxies"))
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        response = self._below.send(request, **kwargs)
        # Digest auth re-sends through ``response.connection``: make that this adapter, not the
        # sandbox or cassette layer below, so the re-sent request is checked too.
        response.connection = self
        return response

    def _deliver(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # The same host the egress rule judged: the sandbox serves the Microsoft names, in-process.
        if self._sandbox is not None and host_of(request.url or "") in self._routed:
            return self._sandbox.send(request, **kwargs)
        return super().send(request, **kwargs)

    def close(self) -> None:
        self._below.close()
        super().close()


class _Gate(BaseAdapter):
    """The egress check in front of an adapter mounted on the session by someone else."""

    def __init__(self, egress: Egress, inner: BaseAdapter):
        super().__init__()
        self.egress, self.inner = egress, inner

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.egress.check(request, kwargs.get("proxies"))
        response = self.inner.send(request, **kwargs)
        response.connection = self  # type: ignore[assignment]  # a digest re-send is checked too
        return response

    def close(self) -> None:
        self.inner.close()


class _Session(requests.Session):
    """A Session with one egress rule, whose own ``verify`` is not overridden by CA-bundle variables.

    The environment's proxy and CA settings are read once per scheme and host rather than on
    every request (requests re-reads them each time: ~1 ms a request, measured in bench/).
    """

    def __init__(self, egress: Egress) -> None:
        super().__init__()
        self.egress = egress
        self._environment_settings: dict[tuple[Any, ...], dict[str, Any]] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # A direct ``session.send(prepared)`` (the Postman-style token request does one) skips
        # ``Session.request``'s merge of the environment: take the proxies and CA bundle
        # (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) from the environment here too, so they
        # are honoured, and judged by the egress rule, whichever way a request is sent.
        if "proxies" not in kwargs:
            merged = self.merge_environment_settings(request.url, {}, kwargs.get("stream"), None, None)
            for key, value in merged.items():
                if kwargs.get(key) is None:
                    kwargs[key] = value
        return super().send(request, **kwargs)

    def get_adapter(self, url: str) -> BaseAdapter:
        adapter = super().get_adapter(url)
        return adapter if isinstance(adapter, TransportAdapter) else _Gate(self.egress, adapter)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        parts = urlparse(url)
        key = (
            parts.scheme,
            parts.netloc,
            tuple(sorted((proxies or {}).items())),
            stream,
            verify,
            cert,
            self.verify,
            self.cert,
            self.trust_env,
            tuple(sorted(self.proxies.items())),
        )
        cached: Any = self._environment_settings.get(key)
        if cached is None:
            cached = dict(super().merge_environment_settings(url, proxies, stream, verify, cert))
            if verify is None and self.verify is not True:
                cached["verify"] = self.verify
            self._environment_settings[key] = cached
        return {**cached, "proxies": dict(cached["proxies"])}


def build_session(
    *,
    sandbox: _Mountable | None = None,
    verify: bool | str = True,
    timeout: tuple[float, float] | float | None = None,
    recorder: _Recorder | None = None,
    user_agent: str | None = None,
    egress: Egress | None = None,
) -> requests.Session:
    """A Session with o365check's egress rule, timeouts, retry policy, CA handling, routing and recording.

    ``egress`` holds the secrets the session may carry; register more on ``egress_of(session)``.
    """
    egress = egress if egress is not None else Egress()
    session = _Session(egress)
    session.verify = verify
    session.headers["User-Agent"] = user_agent or f"o365check/{__version__} {requests.utils.default_user_agent()}"
    adapter = TransportAdapter(egress, timeout=timeout or DEFAULT_TIMEOUT, sandbox=sandbox, recorder=recorder)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.hooks["response"].append(_log_exchange)
    return session


def egress_of(session: requests.Session) -> Egress:
    """The egress rule of a session from :func:`build_session`.

    A foreign session gets one too: its adapters are put behind the check, so a caller that
    brings its own session (tests, embedding) cannot lose the rule.
    """
    egress = getattr(session, "egress", None)
    if isinstance(egress, Egress):
        return egress
    egress = Egress()
    session.egress = egress  # type: ignore[attr-defined]
    for prefix, adapter in list(session.adapters.items()):
        session.mount(prefix, _Gate(egress, adapter))
    return egress


def _log_exchange(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Debug log of every exchange; the CLI's log handler masks secrets (redact.RedactingFilter)."""
    if log.isEnabledFor(logging.DEBUG):
        request = response.request
        log.debug(
            "%s %s -> %s %s (%d bytes, %.0f ms)",
            request.method,
            request.url,
            response.status_code,
            response.reason,
            len(response.content or b""),
            response.elapsed.total_seconds() * 1000,
        )
        # Masked here too (by name and pattern), for library users whose log handlers do not redact.
        raw = request.body
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw if isinstance(raw, str) else ""
        log.debug(
            "request headers: %s; body: %s",
            _PATTERN_REDACTOR.data(dict(request.headers)),
            _PATTERN_REDACTOR.text(body or ""),
        )
    return response
