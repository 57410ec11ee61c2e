"""The Microsoft identity platform endpoints: tenant and instance discovery, JWKS, token.

Shapes and texts follow reference §1 (token endpoint, AADSTS codes, error JSON) and §2 (what MSAL
requests and expects). Every handler takes a werkzeug Request and returns a Response.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote_plus

from werkzeug.wrappers import Request, Response

from .hosts import SandboxCloud
from .model import AppRegistration, Directory, Tenant
from .tokens import (
    ACCESS_TOKEN_LIFETIME,
    AssertionRejected,
    check_client_assertion,
    mint_access_token,
    signing_key,
)

__all__ = ["answer_identity_request", "aadsts_error_response", "TokenError"]

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
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
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _correlation_id(request: Request) -> str:
    """ESTS echoes the client's ``client-request-id`` (MSAL always sends one)."""
    sent = request.headers.get("client-request-id", "")
    return sent if GUID.match(sent) else str(uuid.uuid4())


def _http_date() -> str:
    from email.utils import formatdate

    return formatdate(usegmt=True)


def _ests_headers(trace_id: str) -> dict[str, str]:
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


def _json_response(body: Any, status: int, headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


def aadsts_error_response(
    request: Request, error: TokenError, cloud_login_host: str, now: float,
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
    headers = _ests_headers(trace_id) | (extra_headers or {})
    return _json_response(body, error.status, headers)


def _tenant_not_found(tenant: str) -> TokenError:
    return TokenError(
        90002, "invalid_request",
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud. Check with your subscription administrator, this may "
        "happen if there are no active subscriptions for the tenant.",
    )


def _malformed_tenant(tenant: str) -> TokenError:
    return TokenError(
        900023, "invalid_request",
        f"Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain.",
    )


def _find_tenant(segment: str, directory: Directory, clouds: list[SandboxCloud]) -> Tenant:
    """The tenant the path names on this host; a tenant of another cloud is "not found" here."""
    if not (GUID.match(segment) or DNS_NAME.match(segment)):
        raise _malformed_tenant(segment)
    tenant = directory.find_tenant(segment, {c.name for c in clouds})
    if tenant is None:
        raise _tenant_not_found(segment)
    return tenant


def answer_identity_request(
    request: Request, directory: Directory, clouds: list[SandboxCloud], now: float
) -> Response:
    """Dispatch one identity-platform request by path."""
    parts = [p for p in request.path.split("/") if p]
    login_host = clouds[0].login_host
    try:
        if request.method == "GET" and len(parts) >= 2 and parts[-2:] == ["discovery", "instance"]:
            return _instance_discovery(request)
        if request.method == "GET" and len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return _tenant_discovery(request, parts[0], directory, clouds, now)
        if request.method == "GET" and len(parts) in (3, 4) and parts[1] == "discovery" and parts[-1] == "keys":
            return _json_response({"keys": [signing_key().jwk(_issuer(request, parts[0]))]}, 200,
                                  _discovery_headers())
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            if request.method != "POST":
                raise TokenError(900561, "invalid_request",
                                 "The endpoint only accepts POST requests. Received a GET request.")
            return _token(request, parts[0], directory, clouds, now)
    except TokenError as error:
        return aadsts_error_response(request, error, login_host, now)
    return Response("Not Found", status=404, content_type="text/plain; charset=utf-8")


def _discovery_headers() -> dict[str, str]:
    return {
        "Date": _http_date(),
        "Cache-Control": "max-age=86400, private",
        "Access-Control-Allow-Origin": "*",
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-ests-server": ESTS_SERVER,
    }


def _base(request: Request) -> str:
    """Scheme and host the client asked for (X-Forwarded-* honoured by ProxyFix upstream)."""
    return f"{request.scheme}://{request.host}"


def _issuer(request: Request, tenant: str) -> str:
    return f"{_base(request)}/{tenant}/v2.0"


def _instance_discovery(request: Request) -> Response:
    """``/common/discovery/instance``: MSAL's alias lookup, also on its error path (§2.1 item 5)."""
    authorization_endpoint = request.args.get("authorization_endpoint", "")
    tenant = "common"
    match = re.match(r"^https://[^/]+/([^/]+)/", authorization_endpoint)
    if match:
        tenant = match.group(1)
    body = {
        "tenant_discovery_endpoint": f"{_base(request)}/{tenant}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [
            {"preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net",
             "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com",
                         "sts.windows.net"]},
            {"preferred_network": "login.partner.microsoftonline.cn",
             "preferred_cache": "login.partner.microsoftonline.cn",
             "aliases": ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"]},
            {"preferred_network": "login.microsoftonline.us", "preferred_cache": "login.microsoftonline.us",
             "aliases": ["login.microsoftonline.us", "login.usgovcloudapi.net"]},
            {"preferred_network": "login-us.microsoftonline.com",
             "preferred_cache": "login-us.microsoftonline.com", "aliases": ["login-us.microsoftonline.com"]},
        ],
    }
    return _json_response(body, 200, _discovery_headers())


def _tenant_discovery(
    request: Request, segment: str, directory: Directory, clouds: list[SandboxCloud], now: float
) -> Response:
    """The v2.0 OpenID configuration MSAL reads at construction time (§2.1 item 1)."""
    if segment.lower() in ("common", "organizations", "consumers"):
        tenant_path, issuer_tenant, cloud = segment, "{tenantid}", clouds[0]
        region = None
    else:
        try:
            tenant = _find_tenant(segment, directory, clouds)
        except TokenError as error:
            # Discovery answers with `invalid_tenant` (reference §1.4, AADSTS90002 row).
            error.error = "invalid_tenant"
            return aadsts_error_response(request, error, clouds[0].login_host, now)
        tenant_path = issuer_tenant = tenant.tenant_id
        cloud = next(c for c in clouds if c.name == tenant.cloud)
        region = tenant.region_scope
    base = _base(request)
    body: dict[str, Any] = {
        "token_endpoint": f"{base}/{tenant_path}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/{tenant_path}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"https://{cloud.graph_host}/oidc/userinfo",
        "authorization_endpoint": f"{base}/{tenant_path}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/{tenant_path}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/{tenant_path}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                             "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time",
                             "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
                             "c_hash", "email"],
        "kerberos_endpoint": f"{base}/{tenant_path}/kerberos",
        "tenant_region_scope": region,
        "cloud_instance_name": cloud.login_host.split("login.", 1)[-1],
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": cloud.graph_host,
        "rbac_url": "https://pas.windows.net",
    }
    return _json_response(body, 200, _discovery_headers())


def _read_form(request: Request) -> dict[str, str]:
    """The form body; anything else (JSON, query string) counts as an empty body (§1.1)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return {}
    return {k: v for k, v in request.form.items()}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username is None:
        return None
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
    return unquote_plus(auth.username), unquote_plus(auth.password or "")


def _require(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise TokenError(900144, "invalid_request",
                         f"The request body must contain the following parameter: '{name}'.")
    return value


def _token(
    request: Request, segment: str, directory: Directory, clouds: list[SandboxCloud], now: float
) -> Response:
    """``POST /{tenant}/oauth2/v2.0/token`` for the client-credentials grant."""
    form = _read_form(request)
    basic = _basic_credentials(request)
    lowered = segment.lower()
    tenant = None
    if lowered not in ("common", "consumers", "organizations"):
        tenant = _find_tenant(segment, directory, clouds)
    grant_type = _require(form, "grant_type")
    if grant_type != "client_credentials":
        raise TokenError(70003, "unsupported_grant_type",
                         f"The app requested an unsupported grant type '{grant_type}'.")
    if lowered in ("common", "consumers"):
        raise TokenError(9001023, "invalid_request",
                         "The grant type isn't supported over the /common or /consumers endpoints. "
                         "Please use the /organizations or tenant-specific endpoint.")
    if tenant is None:  # /organizations names no tenant [unverified: 50059 seen for this case]
        raise TokenError(50059, "invalid_request",
                         "No tenant-identifying information found in either the request or implied "
                         "by any provided credentials.")
    client_id = form.get("client_id") or (basic[0] if basic else "")
    if not client_id:
        _require(form, "client_id")
    if "resource" in form:
        raise TokenError(901002, "invalid_request", "The 'resource' request parameter isn't supported.")
    cloud = next(c for c in clouds if c.name == tenant.cloud)
    _check_scope(_require(form, "scope"), tenant, cloud)
    app = tenant.find_app(client_id)
    if app is None:
        raise TokenError(
            700016, "unauthorized_client",
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant.display_name}'. This can happen if the application has not been installed by "
            "the administrator of the tenant or consented to by any user in the tenant. You may have "
            "sent your authentication request to the wrong tenant.",
        )
    if not app.enabled:
        raise TokenError(7000112, "unauthorized_client",
                         f"Application '{app.client_id}'({app.display_name}) is disabled.")
    credential_kind = _check_credential(form, basic, app, tenant, now)
    if app.blocked_by_conditional_access:
        # The `error` value for 53003 is not confirmed by a source (reference §1.4).
        raise TokenError(53003, "access_denied",
                         "Access has been blocked by Conditional Access policies. The access policy "
                         "does not allow token issuance.")
    token = mint_access_token(tenant, app, cloud.graph_resource, now=now, credential_kind=credential_kind)
    body = {"token_type": "Bearer", "expires_in": ACCESS_TOKEN_LIFETIME,
            "ext_expires_in": ACCESS_TOKEN_LIFETIME, "access_token": token}
    return _json_response(body, 200, _ests_headers(str(uuid.uuid4())))


def _check_scope(scope: str, tenant: Tenant, cloud: SandboxCloud) -> None:
    for item in scope.split():
        if not item.endswith("/.default"):
            raise TokenError(
                1002012, "invalid_scope",
                f"The provided value for scope {scope} is not valid. Client credential flows must "
                "have a scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = item[: -len("/.default")]
        if resource not in (cloud.graph_resource, GRAPH_APP_ID):
            raise TokenError(
                500011, "invalid_resource",
                f"The resource principal named {resource} was not found in the tenant named "
                f"{tenant.display_name}. This can happen if the application has not been installed "
                "by the administrator of the tenant or consented to by any user in the tenant. You "
                "might have sent your authentication request to the wrong tenant.",
            )


def _check_credential(
    form: dict[str, str], basic: tuple[str, str] | None, app: AppRegistration, tenant: Tenant, now: float
) -> int:
    """Check the secret or certificate assertion; return ``appidacr`` (1 secret, 2 certificate)."""
    assertion = form.get("client_assertion", "")
    secret = form.get("client_secret", "") or (basic[1] if basic else "")
    if app.public_client and (assertion or secret):
        raise TokenError(700025, "invalid_client",
                         "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
    if assertion:
        if _require(form, "client_assertion_type") != JWT_BEARER:
            raise TokenError(50027, "invalid_client", "JWT token is invalid or malformed.")
        try:
            check_client_assertion(assertion, app, tenant, now=now)
        except AssertionRejected as rejected:
            raise TokenError(rejected.code, "invalid_client", rejected.description) from None
        return 2
    if not secret:
        raise TokenError(7000218, "invalid_client",
                         "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    moment = datetime.fromtimestamp(now, tz=timezone.utc)
    matching = [s for s in app.secrets if s.value == secret]
    if not matching:
        raise TokenError(
            7000215, "invalid_client",
            "Invalid client secret provided. Ensure the secret being sent in the request is the client "
            f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
        )
    if all(s.is_expired(moment) for s in matching):
        raise TokenError(
            7000222, "invalid_client",
            f"The provided client secret keys for app '{app.client_id}' are expired. Visit the Azure "
            "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
            "certificate credentials for added security: https://aka.ms/certCreds.",
        )
    return 1
