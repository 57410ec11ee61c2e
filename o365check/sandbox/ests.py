"""The shapes of the identity platform's answers (ESTS): AADSTS errors, headers, tenant lookup.

Reference §1.2 (headers), §1.3 (error JSON, exactly), §1.4 (codes and texts).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from .hosts import SandboxCloud
from .model import Directory, Tenant

__all__ = [
    "TokenError",
    "aadsts_error_response",
    "find_tenant",
    "json_response",
    "ests_headers",
    "discovery_headers",
    "GUID",
]

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")
ESTS_SERVER = "2.1.0.0 - SANDBOX ProdSlices"  # x-ms-ests-server; real ones name a region


class TokenError(Exception):
    """An AADSTS error the token endpoint answers with (reference §1.3/§1.4)."""

    def __init__(self, code: int, error: str, text: str, status: int | None = None) -> None:
        super().__init__(f"AADSTS{code}")
        self.code = code
        self.error = error
        self.text = text
        # RFC 6749: invalid_client is 401, other OAuth errors 400 (reference §1.4).
        self.status = status or (401 if error == "invalid_client" else 400)


def _timestamp(now: float) -> str:
    return datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _correlation_id(request: Request) -> str:
    """ESTS echoes the client's ``client-request-id`` (MSAL always sends one)."""
    sent = request.headers.get("client-request-id", "")
    return sent if GUID.match(sent) else str(uuid.uuid4())


def _http_date() -> str:
    from email.utils import formatdate

    return formatdate(usegmt=True)


def ests_headers(trace_id: str) -> dict[str, str]:
    # The headers of real token-endpoint responses (reference §1.2).
    return {
        "Date": _http_date(),
        "Cache-Control": "no-store, no-cache",
        "Pragma": "no-cache",
        "Expires": "-1",
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "P3P": 'CP="DSP CUR OTPi IND OTRi ONL FIN"',
        "x-ms-request-id": trace_id,
        "x-ms-ests-server": ESTS_SERVER,
    }


def json_response(body: Any, status: int, headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


def aadsts_error_response(
    request: Request,
    error: TokenError,
    cloud_login_host: str,
    now: float,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """The error JSON of reference §1.3, exactly: description with Trace/Correlation/Timestamp."""
    trace_id = str(uuid.uuid4())
    correlation_id = _correlation_id(request)
    stamp = _timestamp(now)
    body = {
        "error": error.error,
        "error_description": (
            f"AADSTS{error.code}: {error.text}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}"
        ),
        "error_codes": [error.code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://{cloud_login_host}/error?code={error.code}",
    }
    headers = ests_headers(trace_id) | (extra_headers or {})
    return json_response(body, error.status, headers)


def _tenant_not_found(tenant: str) -> TokenError:
    return TokenError(
        90002,
        "invalid_request",
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud. Check with your subscription administrator, this may "
        "happen if there are no active subscriptions for the tenant.",
    )


def _malformed_tenant(tenant: str) -> TokenError:
    return TokenError(
        900023,
        "invalid_request",
        f"Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain.",
    )


def find_tenant(segment: str, directory: Directory, clouds: list[SandboxCloud]) -> Tenant:
    """The tenant the path names on this host; a tenant of another cloud is "not found" here."""
    if not (GUID.match(segment) or DNS_NAME.match(segment)):
        raise _malformed_tenant(segment)
    tenant = directory.find_tenant(segment, {c.name for c in clouds})
    if tenant is None:
        raise _tenant_not_found(segment)
    return tenant


def discovery_headers() -> dict[str, str]:
    return {
        "Date": _http_date(),
        "Cache-Control": "max-age=86400, private",
        "Access-Control-Allow-Origin": "*",
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-ests-server": ESTS_SERVER,
    }
