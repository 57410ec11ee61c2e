"""App-only tokens: through MSAL, and byte for byte the way the guide's Postman test asks.

MSAL's error dicts become ``TokenError`` here, and only here. A fresh
``ConfidentialClientApplication`` is made for every call: MSAL answers an identical request that
failed with HTTP 400 from its own cache for 60 s, and 429/5xx for Retry-After seconds (reference
§2.2), which would hide a fix the user just made in the portal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlparse

import requests

from .clouds import Cloud, cloud_named
from .errors import DiscoveryError, ServiceUnreachableError, TokenError, UsageError
from .http import describe_connection_error, retry_after_seconds
from .settings import Secret, Settings, read_certificate

__all__ = [
    "AppToken",
    "acquire_app_token",
    "discover_tenant",
    "find_tenant_cloud",
    "postman_token_request",
    "request_token_like_postman",
    "send_token_request",
]

# RFC 6749 §5.2: invalid_client is 401, the other OAuth errors 400 (reference §1.4). MSAL does not
# hand us the status, so it is read from the response the session saw (see _LastResponse).


@dataclass(frozen=True)
class AppToken:
    """An app-only access token. The token itself is a Secret; the rest is safe to show."""

    access_token: Secret
    expires_in: int
    token_type: str = "Bearer"
    token_source: str = "identity_provider"  # or "cache" (MSAL's token_source)
    method: str = "msal"  # "msal" or "postman"

    def __repr__(self) -> str:
        return f"AppToken(expires_in={self.expires_in}, token_source={self.token_source!r}, method={self.method!r})"


class _LastResponse:
    """Remembers the last token-endpoint response a session saw (status and Retry-After)."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.retry_after: float | None = None

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if "/oauth2/" in response.url:
            self.status = response.status_code
            self.retry_after = retry_after_seconds(response)
        return response


def _cloud(settings: Settings) -> Cloud:
    return cloud_named(settings.cloud)


def discover_tenant(settings: Settings, session: requests.Session) -> dict[str, Any]:
    """The tenant's OpenID configuration (the unauthenticated request MSAL makes first, reference §2.1)."""
    cloud = _cloud(settings)
    url = f"{cloud.login_base}/{quote(settings.tenant_id, safe='')}/v2.0/.well-known/openid-configuration"
    try:
        response = session.get(url)
    except requests.RequestException as exc:
        raise describe_connection_error(exc, url) from exc
    body = _json_or_none(response)
    if response.status_code == 200 and isinstance(body, dict) and "token_endpoint" in body:
        return body
    token_error = (
        TokenError.from_response(body, response.status_code, cloud.login_host)
        if isinstance(body, dict) and "error" in body
        else None
    )
    raise DiscoveryError(
        settings.tenant_id, cloud.login_host, response.status_code, token_error, retry_after_seconds(response)
    )


def find_tenant_cloud(settings: Settings, session: requests.Session) -> str | None:
    """The other national cloud where the tenant exists, if any (AADSTS90002 often means a wrong cloud).

    Only unauthenticated OpenID-configuration requests are made; nothing secret leaves.
    """
    from .clouds import CLOUDS

    tried = {cloud_named(settings.cloud).login_host}
    for name, cloud in CLOUDS.items():
        if cloud.login_host in tried:
            continue
        tried.add(cloud.login_host)
        try:
            discover_tenant(settings.with_values(cloud=name), session)
        except (DiscoveryError, ServiceUnreachableError):
            continue
        return name
    return None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _client_credential(settings: Settings) -> Any:
    if settings.client_secret:
        return settings.client_secret.reveal()
    return _certificate_credential(settings)


def _certificate_credential(settings: Settings) -> dict[str, str]:
    """MSAL's certificate credential from a PEM holding the key and the certificate (as azure-identity reads it)."""
    from cryptography.hazmat.primitives import serialization

    try:
        key, cert = read_certificate(settings.certificate_path, settings.certificate_password)
    except (OSError, ValueError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else f"cannot be read ({exc.strerror})"
        raise UsageError(
            f"{settings.source_of('certificate_path')} {settings.certificate_path!r} {reason}: it must be a PEM file "
            f"with the private key and the certificate; check the path and {settings.source_of('certificate_password')}"
        ) from None
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # private_key + public_certificate: MSAL signs PS256 with x5c and x5t#S256 (reference §2.1).
    return {
        "private_key": key_pem.decode(),
        "public_certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
    }


def acquire_app_token(settings: Settings, session: requests.Session) -> AppToken:
    """An app-only Graph token through real MSAL (client credentials, ``<graph>/.default``)."""
    import msal  # imported here: it is heavy, and `o365check --help` must stay fast

    cloud = _cloud(settings)
    last = _LastResponse()
    session.hooks["response"].append(last)
    try:
        try:
            app = msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=_client_credential(settings),
                authority=cloud.authority(settings.tenant_id),
                http_client=session,
                token_cache=msal.TokenCache(),
            )
            result = app.acquire_token_for_client(scopes=[cloud.graph_scope])
        except requests.RequestException as exc:
            raise describe_connection_error(exc, cloud.login_base) from exc
        except ValueError as exc:
            if "authority" in str(exc).lower():
                # MSAL hides the server's answer (reference §2.1 item 1): ask again to show it.
                discover_tenant(settings, session)
            raise TokenError(error="msal_error", description=str(exc).split("\n")[0], host=cloud.login_host) from None
        except msal.exceptions.MsalServiceError as exc:  # 5xx: MSAL raises instead of returning a dict
            raise TokenError(
                error="server_error",
                description=str(exc),
                status=last.status,
                host=cloud.login_host,
                retry_after=last.retry_after,
            ) from None
    finally:
        session.hooks["response"].remove(last)
    if "access_token" not in result:
        raise TokenError.from_response(result, last.status, cloud.login_host, last.retry_after)
    return AppToken(
        access_token=Secret(result["access_token"]),
        expires_in=int(result.get("expires_in", 0)),
        token_type=str(result.get("token_type", "Bearer")),
        token_source=str(result.get("token_source", "identity_provider")),
    )


def postman_token_request(settings: Settings) -> requests.Request:
    """The guide's Postman token request: form body in Postman's field order, Postman's headers."""
    cloud = _cloud(settings)
    secret = settings.client_secret.reveal() if settings.client_secret else ""
    fields = [
        ("client_id", settings.client_id),
        ("scope", cloud.graph_scope),
        ("client_secret", secret),
        ("grant_type", "client_credentials"),
    ]
    body = "&".join(f"{k}={quote(v, safe='')}" for k, v in fields)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "PostmanRuntime/7.43.0",
        "Accept": "*/*",
        "Cache-Control": "no-cache",
        "Postman-Token": str(uuid.uuid4()),
        "Accept-Encoding": "gzip, deflate, br",
        "Connection": "keep-alive",
    }
    return requests.Request("POST", cloud.token_url(settings.tenant_id), data=body, headers=headers)


def request_token_like_postman(settings: Settings, session: requests.Session) -> AppToken:
    """The token request exactly as the guide's Postman test sends it (no MSAL involved)."""
    if not settings.client_secret:
        raise UsageError(
            "the Postman-style token request needs a client secret (AZURE_CLIENT_SECRET); certificates go through MSAL"
        )
    request = postman_token_request(settings)
    prepared = session.prepare_request(request)
    # Postman does not send python-requests' default headers: keep exactly the ones above.
    prepared.headers = requests.structures.CaseInsensitiveDict(
        {**request.headers, "Content-Length": str(len(prepared.body or ""))}
    )
    body = send_token_request(session, prepared)
    return AppToken(
        Secret(body["access_token"]),
        int(body.get("expires_in", 0)),
        str(body.get("token_type", "Bearer")),
        "identity_provider",
        "postman",
    )


def send_token_request(
    session: requests.Session, prepared: requests.PreparedRequest, *, timeout: float | None = None
) -> dict[str, Any]:
    """Send a raw OAuth 2.0 token request; the token response's JSON (it has an ``access_token``).

    The one hand-made token fetch: the doctor's Postman-style request and the runner's OAuth 2.0
    helper both come here, so a refusal reads the same in both. A connection failure becomes
    ``ServiceUnreachableError``; any answer without a token becomes ``TokenError`` (the OAuth error
    body when there is one, reference §1.4; else ``unexpected_response`` naming the status).
    """
    url = prepared.url or ""
    host = urlparse(url).hostname or url
    # session.send skips the environment's proxy and CA settings (REQUESTS_CA_BUNDLE): ask for them.
    environment = session.merge_environment_settings(url, {}, None, None, None)
    try:
        response = session.send(prepared, timeout=timeout, **environment)
    except requests.RequestException as exc:
        raise describe_connection_error(exc, url) from exc
    body = _json_or_none(response)
    if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
        return body
    retry_after = retry_after_seconds(response)
    if isinstance(body, dict) and body.get("error"):
        raise TokenError.from_response(body, response.status_code, host, retry_after)
    raise TokenError(
        error="unexpected_response",
        description=f"HTTP {response.status_code} without a token or an OAuth error body",
        status=response.status_code,
        host=host,
        retry_after=retry_after,
    )
