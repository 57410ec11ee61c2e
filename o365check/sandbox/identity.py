"""The Microsoft identity platform endpoints: dispatch, tenant and instance discovery, JWKS.

Shapes follow reference §2 (what MSAL requests and expects); the token endpoint itself is in
``token_endpoint.py``, the error shapes in ``ests.py``.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from .ests import TokenError, aadsts_error_response, discovery_headers, find_tenant, json_response
from .hosts import SandboxCloud
from .model import Directory
from .token_endpoint import answer_token_request
from .tokens import signing_key

__all__ = ["answer_identity_request"]


def answer_identity_request(request: Request, directory: Directory, clouds: list[SandboxCloud], now: float) -> Response:
    """Dispatch one identity-platform request by path."""
    parts = [p for p in request.path.split("/") if p]
    login_host = clouds[0].login_host
    try:
        if request.method == "GET" and len(parts) >= 2 and parts[-2:] == ["discovery", "instance"]:
            return _instance_discovery(request)
        if request.method == "GET" and len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return _tenant_discovery(request, parts[0], directory, clouds, now)
        if request.method == "GET" and len(parts) in (3, 4) and parts[1] == "discovery" and parts[-1] == "keys":
            return json_response({"keys": [signing_key().jwk(_issuer(request, parts[0]))]}, 200, discovery_headers())
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            if request.method != "POST":
                raise TokenError(
                    900561, "invalid_request", "The endpoint only accepts POST requests. Received a GET request."
                )
            return answer_token_request(request, parts[0], directory, clouds, now)
        if len(parts) == 3 and parts[1:] == ["oauth2", "token"] and request.method == "POST":
            return answer_token_request(request, parts[0], directory, clouds, now, v1=True)
    except TokenError as error:
        return aadsts_error_response(request, error, login_host, now)
    return Response("Not Found", status=404, content_type="text/plain; charset=utf-8")


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
            {
                "preferred_network": "login.microsoftonline.com",
                "preferred_cache": "login.windows.net",
                "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
            },
            {
                "preferred_network": "login.partner.microsoftonline.cn",
                "preferred_cache": "login.partner.microsoftonline.cn",
                "aliases": ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
            },
            {
                "preferred_network": "login.microsoftonline.us",
                "preferred_cache": "login.microsoftonline.us",
                "aliases": ["login.microsoftonline.us", "login.usgovcloudapi.net"],
            },
            {
                "preferred_network": "login-us.microsoftonline.com",
                "preferred_cache": "login-us.microsoftonline.com",
                "aliases": ["login-us.microsoftonline.com"],
            },
        ],
    }
    return json_response(body, 200, discovery_headers())


def _tenant_discovery(
    request: Request, segment: str, directory: Directory, clouds: list[SandboxCloud], now: float
) -> Response:
    """The v2.0 OpenID configuration MSAL reads at construction time (§2.1 item 1)."""
    if segment.lower() in ("common", "organizations", "consumers"):
        tenant_path, issuer_tenant, cloud = segment, "{tenantid}", clouds[0]
        region = None
    else:
        try:
            tenant = find_tenant(segment, directory, clouds)
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
        "claims_supported": [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],
        "kerberos_endpoint": f"{base}/{tenant_path}/kerberos",
        "tenant_region_scope": region,
        "cloud_instance_name": cloud.login_host.split("login.", 1)[-1],
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": cloud.graph_host,
        "rbac_url": "https://pas.windows.net",
    }
    return json_response(body, 200, discovery_headers())
