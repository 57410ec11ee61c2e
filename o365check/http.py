"""The one place that builds ``requests`` Sessions.

Every request o365check makes (MSAL's included: it gets the session as its ``http_client``) goes
through a session from :func:`build_session`, so timeouts, retries, CA handling, sandbox routing
and recording are decided here once.

- Timeouts: a default (connect, read) timeout on every request.
- Retries: only for connection failures *before* anything was sent (urllib3 ``connect`` retries).
  A request that may have reached the server is never retried here: Retry-After handling is the
  caller's (graph.py), because only it knows whether a retry could send a second e-mail.
- CA handling: ``verify`` may be a CA bundle path; it wins over REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE,
  which requests otherwise lets override a session's setting (reference §2.3 gotcha).
- Sandbox routing: with ``sandbox=``, the Microsoft host names are served in-process by the sandbox
  (same URLs in sandbox and live mode).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import __version__
from .errors import ServiceUnreachableError
from .redact import Redactor

__all__ = ["DEFAULT_TIMEOUT", "build_session", "describe_connection_error", "retry_after_seconds", "went_out"]

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)  # (connect, read) seconds
log = logging.getLogger("o365check.http")
_PATTERN_REDACTOR = Redactor()  # knows no values: masks secret fields by name, tokens by shape


class _Mountable(Protocol):
    def mount(self, session: requests.Session) -> None: ...


class _Recorder(Protocol):
    def wrap(self, adapter: Any) -> Any: ...


class _TimeoutAdapter(HTTPAdapter):
    """An HTTPAdapter with a default timeout and connect-only retries."""

    def __init__(self, timeout: tuple[float, float] | float):
        self._timeout = timeout
        super().__init__(
            max_retries=Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0, raise_on_status=False)
        )

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class _Session(requests.Session):
    """A Session whose own ``verify`` is not overridden by CA-bundle environment variables.

    The environment's proxy and CA settings are read once per scheme and host rather than on
    every request (requests re-reads them each time: ~1 ms a request, measured in bench/).
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment_settings: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        parts = requests.utils.urlparse(url)
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
        cached = self._environment_settings.get(key)
        if cached is None:
            cached = super().merge_environment_settings(url, proxies, stream, verify, cert)
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
) -> requests.Session:
    """A Session with o365check's timeouts, retry policy, CA handling, routing and recording."""
    session = _Session()
    session.verify = verify
    session.headers["User-Agent"] = user_agent or f"o365check/{__version__} {requests.utils.default_user_agent()}"
    adapter = _TimeoutAdapter(timeout or DEFAULT_TIMEOUT)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.hooks["response"].append(_log_exchange)
    if sandbox is not None:
        sandbox.mount(session)
    if recorder is not None:
        for prefix, mounted in list(session.adapters.items()):
            session.mount(prefix, recorder.wrap(mounted))
    return session


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
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
        log.debug(
            "request headers: %s; body: %s",
            _PATTERN_REDACTOR.data(dict(request.headers)),
            _PATTERN_REDACTOR.text(body or ""),
        )
    return response


def retry_after_seconds(response: requests.Response) -> float | None:
    """The ``Retry-After`` of a response in seconds, or None (absent, or an HTTP date we do not read)."""
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def went_out(exc: requests.RequestException) -> bool:
    """True when the request may have reached the server (so it must not be repeated blindly).

    A connect timeout or a refused/unresolvable connection never sent anything; a read timeout or
    a connection dropped while waiting for the answer may have. When unsure, say it went out.
    """
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return False
    if isinstance(exc, requests.ReadTimeout):
        return True
    text = repr(exc)
    if any(m in text for m in ("RemoteDisconnected", "Connection aborted", "ConnectionResetError", "ProtocolError")):
        return True
    never_sent = (
        "NewConnectionError",
        "NameResolutionError",
        "Failed to resolve",
        "Connection refused",
        "ConnectionRefusedError",
    )
    return not any(m in text for m in never_sent)


def describe_connection_error(exc: requests.RequestException, url: str) -> ServiceUnreachableError:
    """Map a requests failure to ServiceUnreachableError, naming the host and a short reason."""
    host = requests.utils.urlparse(url).hostname or url
    text = repr(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        reason = "the TLS handshake failed (certificate not trusted? a proxy re-signing traffic? pass --ca-cert)"
    elif isinstance(exc, requests.Timeout):
        reason = "it did not answer in time"
    elif "NameResolutionError" in text or "Failed to resolve" in text or "Name or service not known" in text:
        reason = "its name could not be resolved (no network, or a typo in the host)"
    elif "Connection refused" in text or "ConnectionRefusedError" in text:
        reason = "the connection was refused"
    elif isinstance(exc, requests.exceptions.ProxyError):
        reason = "the proxy refused the connection (check HTTPS_PROXY / NO_PROXY)"
    else:
        reason = f"the connection failed ({type(exc).__name__})"
    return ServiceUnreachableError(host, reason)
