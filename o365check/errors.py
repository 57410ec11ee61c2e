"""The one exception tree of o365check.

Errors carry facts (codes, statuses, ids); advice lives in ``diagnosis.py``.
Foreign errors (MSAL dicts, requests exceptions) are mapped once, at the boundary
where they happen, with ``raise ... from exc``. No message ever contains a secret.

    O365CheckError                      exit 1 unless said otherwise
    ├── UsageError                      exit 2: the input cannot be used
    │   ├── SettingsError               one or more settings are wrong (.problems)
    │   ├── CollectionLoadError         a collection/environment/data file is unreadable (.path, .position)
    │   ├── SecretRoutingError          a secret would be sent to a host that must not get it
    │   └── CassetteError               a cassette is missing, unreadable or does not match
    │       └── ReplayMismatchError     a request has no recorded answer (.request, .closest, .differences)
    ├── ServiceUnreachableError         exit 3: could not connect (.host, .reason)
    ├── AmbiguousSendError              the send may or may not have happened (timeout/reset after sending)
    └── ServiceError                    a Microsoft service answered with an error (.status)
        ├── DiscoveryError              tenant (OpenID) discovery failed (.tenant, .token_error)
        ├── TokenError                  the token endpoint refused (.error, .error_codes, .trace_id, ...)
        └── GraphError                  Graph answered with an error body (.code, .message, .request_id)
            ├── GraphAuthenticationError     401
            ├── GraphAccessDeniedError       403
            ├── GraphNotFoundError           404
            ├── GraphBadRequestError         400, 413, 415
            ├── GraphThrottledError          429 (.retry_after)
            └── GraphServerError             5xx
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "AmbiguousSendError",
    "CassetteError",
    "CollectionLoadError",
    "DiscoveryError",
    "GraphAccessDeniedError",
    "GraphAuthenticationError",
    "GraphBadRequestError",
    "GraphError",
    "GraphNotFoundError",
    "GraphServerError",
    "GraphThrottledError",
    "O365CheckError",
    "Problem",
    "ReplayMismatchError",
    "SecretRoutingError",
    "ServiceError",
    "ServiceUnreachableError",
    "SettingsError",
    "TokenError",
    "UsageError",
    "graph_error_class",
]


class O365CheckError(Exception):
    """Base of every error o365check raises on purpose."""

    exit_code: ClassVar[int] = 1


class UsageError(O365CheckError):
    """The input (arguments, settings, files) cannot be used."""

    exit_code: ClassVar[int] = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) with the input: the field, its (masked) value and the fix."""

    field: str
    value: str
    message: str
    fix: str
    severity: str = "error"  # "error" stops the check; "warning" is reported and the check goes on
    code: str = ""  # stable id, e.g. "secret-looks-like-guid"; diagnosis.py keys on it

    def __str__(self) -> str:
        shown = f": {self.value!r}" if self.value else ""
        return f"{self.field} {self.message}{shown}. {self.fix}"


class SettingsError(UsageError):
    """One or more settings are wrong; all of them are listed at once."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"] or list(self.problems)
        lines = "\n".join(f"- {p}" for p in errors)
        super().__init__(f"{len(errors)} setting(s) need fixing:\n{lines}")


class CollectionLoadError(UsageError):
    """A collection, environment, globals or data file could not be read."""

    def __init__(self, path: str, reason: str, position: str | None = None):
        self.path, self.reason, self.position = str(path), reason, position
        where = f" at {position}" if position else ""
        super().__init__(f"cannot read {self.path}{where}: {reason}")


class SecretRoutingError(UsageError):
    """A request would carry a secret to a host that is not its identity host."""

    def __init__(self, variable: str, host: str, reason: str = ""):
        self.variable, self.host = variable, host
        why = reason or "a secret is only sent to a Microsoft identity host over TLS"
        super().__init__(
            f"refused to send secret variable {variable!r} to {host}: {why}. "
            f"If this host really should get it, pass --allow-secret-to {host}"
        )


class CassetteError(UsageError):
    """A cassette is missing, unreadable, or cannot answer a request."""


class ReplayMismatchError(CassetteError):
    """A request made during replay has no recorded answer in the cassette."""

    def __init__(self, cassette: str, request: str, closest: str | None, differences: list[str]):
        self.cassette, self.request, self.closest = cassette, request, closest
        self.differences = list(differences)
        text = f"{cassette} has no recorded answer for {request}"
        if closest:
            text += f"; closest recorded request: {closest}"
            if differences:
                text += " (differs in: " + "; ".join(differences) + ")"
        super().__init__(text)


class ServiceUnreachableError(O365CheckError):
    """A service could not be reached at all (DNS, refused, TLS, timeout before sending)."""

    exit_code: ClassVar[int] = 3

    def __init__(self, host: str, reason: str):
        self.host, self.reason = host, reason
        super().__init__(f"could not reach {host}: {reason}")


class AmbiguousSendError(O365CheckError):
    """The sendMail request went out but no answer came back: the message may have been sent."""

    exit_code: ClassVar[int] = 3

    def __init__(self, sender: str, reason: str):
        self.sender, self.reason = sender, reason
        super().__init__(
            f"the sendMail request for {sender} went out but {reason}; the message may have been "
            f"sent. It was not sent again. Check the Sent Items of {sender} (or the recipient's "
            "inbox, or the Exchange message trace) before trying again."
        )


class ServiceError(O365CheckError):
    """A Microsoft service (or the sandbox) answered with an error."""

    status: int | None = None

    @property
    def error_code(self) -> str:
        """The documented code: ``AADSTS7000215`` or a Graph code like ``ErrorAccessDenied``."""
        return ""


@dataclass(eq=False)
class TokenError(ServiceError):
    """The identity platform refused to issue a token (reference §1.3 error shape)."""

    error: str = ""
    description: str = ""
    error_codes: list[int] = field(default_factory=list)
    status: int | None = None
    trace_id: str = ""
    correlation_id: str = ""
    timestamp: str = ""
    error_uri: str = ""
    host: str = ""
    retry_after: float | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, self._summary())

    def _summary(self) -> str:
        first_line = self.description.split("\r\n")[0].split("\n")[0] if self.description else ""
        status = f"HTTP {self.status} " if self.status else ""
        return f"token request refused ({status}{self.error or 'error'}): {first_line}".rstrip(": ")

    def __str__(self) -> str:
        return self._summary()

    @property
    def first_line(self) -> str:
        """The description's sentence, without the Trace ID / Correlation ID / Timestamp lines."""
        return self.description.split("\r\n")[0].split("\n")[0] if self.description else ""

    @property
    def aadsts(self) -> int | None:
        return self.error_codes[0] if self.error_codes else None

    @property
    def error_code(self) -> str:
        return f"AADSTS{self.aadsts}" if self.aadsts is not None else self.error

    @classmethod
    def from_response(
        cls, body: dict[str, Any], status: int | None = None, host: str = "", retry_after: float | None = None
    ) -> TokenError:
        """Build from the identity platform's error JSON (or MSAL's error dict, which is the same)."""
        codes = body.get("error_codes") or []
        if not codes:
            import re

            found = re.match(r"AADSTS(\d+)", str(body.get("error_description", "")))
            codes = [int(found.group(1))] if found else []
        return cls(
            error=str(body.get("error", "")),
            description=str(body.get("error_description", "")),
            error_codes=[int(c) for c in codes if str(c).isdigit()],
            status=status,
            trace_id=str(body.get("trace_id", "")),
            correlation_id=str(body.get("correlation_id", "")),
            timestamp=str(body.get("timestamp", "")),
            error_uri=str(body.get("error_uri", "")),
            host=host,
            retry_after=retry_after,
        )


class DiscoveryError(ServiceError):
    """Tenant discovery (the OpenID configuration request) failed."""

    def __init__(
        self,
        tenant: str,
        host: str,
        status: int | None,
        token_error: TokenError | None = None,
        retry_after: float | None = None,
    ):
        self.tenant, self.host, self.status, self.token_error = tenant, host, status, token_error
        self.retry_after = retry_after
        # Discovery is not a token request: say what the identity platform answered, in its own words.
        detail = (
            f": the identity platform answered {token_error.error or 'an error'}: {token_error.first_line}"
            if token_error
            else ""
        )
        super().__init__(f"tenant discovery for {tenant!r} at {host} failed (HTTP {status}){detail}")

    @property
    def error_code(self) -> str:
        return self.token_error.error_code if self.token_error else ""


class GraphError(ServiceError):
    """Microsoft Graph answered with an error body (reference §4.2 shape)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str = "",
        client_request_id: str = "",
        date: str = "",
        retry_after: float | None = None,
        url: str = "",
    ):
        self.status, self.code, self.message = status, code, message
        self.request_id, self.client_request_id, self.date = request_id, client_request_id, date
        self.retry_after, self.url = retry_after, url
        super().__init__(f"Graph refused the request (HTTP {status} {code}): {message}")

    @property
    def error_code(self) -> str:
        return self.code

    @staticmethod
    def from_body(
        status: int,
        body: Any,
        *,
        reason: str = "",
        text: str = "",
        request_id: str = "",
        client_request_id: str = "",
        retry_after: float | None = None,
        url: str = "",
    ) -> GraphError:
        """The GraphError subclass for ``status`` from Graph's error JSON (reference §4.2 shape).

        ``reason``/``text`` stand in when the body is not Graph's (a proxy's HTML page, say); the
        ids from the response headers stand in when the body has no ``innerError``.
        """
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        inner = error.get("innerError") or error.get("innererror") or {}
        inner = inner if isinstance(inner, dict) else {}
        return graph_error_class(status)(
            status,
            str(error.get("code") or reason or "UnknownError"),
            str(error.get("message") or text[:200]),
            request_id=str(inner.get("request-id") or request_id),
            client_request_id=str(inner.get("client-request-id") or client_request_id),
            date=str(inner.get("date", "")),
            retry_after=retry_after,
            url=url,
        )


class GraphAuthenticationError(GraphError):
    """401: the token is missing, invalid, expired, for another audience, or has no permissions."""


class GraphAccessDeniedError(GraphError):
    """403: the token is valid but not allowed to do this (role missing, access policy...)."""


class GraphNotFoundError(GraphError):
    """404: the user or mailbox does not exist (or has no Exchange Online mailbox)."""


class GraphBadRequestError(GraphError):
    """400, 413, 415: the request itself is wrong."""


class GraphThrottledError(GraphError):
    """429: throttled; ``retry_after`` says how long to wait."""


class GraphServerError(GraphError):
    """5xx: a transient service failure."""


def graph_error_class(status: int) -> type[GraphError]:
    """The GraphError subclass for an HTTP status."""
    if status == 401:
        return GraphAuthenticationError
    if status == 403:
        return GraphAccessDeniedError
    if status == 404:
        return GraphNotFoundError
    if status == 429:
        return GraphThrottledError
    if status >= 500:
        return GraphServerError
    return GraphBadRequestError
