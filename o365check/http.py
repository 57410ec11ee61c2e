"""HTTP helpers: Retry-After, "did it go out?", connection errors as our errors.

Sessions are built in one place, :mod:`o365check.transport` (re-exported here as
:func:`build_session` for existing callers): every request o365check makes (MSAL's included: it
gets the session as its ``http_client``) goes through a session from there, so the egress rule,
timeouts, retries, CA handling, sandbox routing and recording are decided once.
"""

from __future__ import annotations

from urllib.parse import urlparse

import requests

from .errors import ServiceUnreachableError
from .transport.session import DEFAULT_TIMEOUT, build_session

__all__ = ["DEFAULT_TIMEOUT", "build_session", "describe_connection_error", "retry_after_seconds", "went_out"]


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
    host = urlparse(url).hostname or url
    text = repr(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        reason = "the TLS handshake failed (certificate not trusted? a proxy re-signing traffic? point REQUESTS_CA_BUNDLE at its CA certificate; `run` also takes --ca-cert)"
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
