"""``POST /{tenant}/oauth2/v2.0/token``: the client-credentials grant, validated in the order
and with the AADSTS codes of reference §1.1/§1.4.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from werkzeug.wrappers import Request, Response

from .ests import TokenError, ests_headers, find_tenant, json_response
from .hosts import SandboxCloud
from .model import EXCHANGE_API, AppRegistration, Directory, Tenant
from .smtp_hosts import exchange_cloud_for_resource
from .tokens import ACCESS_TOKEN_LIFETIME, AssertionRejected, check_client_assertion, mint_access_token

__all__ = ["answer_token_request"]

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def _read_form(request: Request) -> dict[str, str]:
    """The form body; anything else (JSON, query string) counts as an empty body (§1.1)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return {}
    return dict(request.form.items())


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username is None:
        return None
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
    return unquote_plus(auth.username), unquote_plus(auth.password or "")


def _require(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise TokenError(900144, "invalid_request", f"The request body must contain the following parameter: '{name}'.")
    return value


def answer_token_request(
    request: Request,
    segment: str,
    directory: Directory,
    clouds: list[SandboxCloud],
    now: float,
    *,
    v1: bool = False,
) -> Response:
    """The client-credentials grant on ``/oauth2/v2.0/token`` (or, with ``v1``, the legacy
    ``/oauth2/token`` that takes ``resource`` and answers with strings, reference §1.1)."""
    form = _read_form(request)
    basic = _basic_credentials(request)
    lowered = segment.lower()
    tenant = None
    if lowered not in ("common", "consumers", "organizations"):
        tenant = find_tenant(segment, directory, clouds)
    grant_type = _require(form, "grant_type")
    if grant_type != "client_credentials":
        raise TokenError(
            70003, "unsupported_grant_type", f"The app requested an unsupported grant type '{grant_type}'."
        )
    if lowered in ("common", "consumers"):
        raise TokenError(
            9001023,
            "invalid_request",
            "The grant type isn't supported over the /common or /consumers endpoints. "
            "Please use the /organizations or tenant-specific endpoint.",
        )
    if tenant is None:  # /organizations names no tenant [unverified: 50059 seen for this case]
        raise TokenError(
            50059,
            "invalid_request",
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        )
    client_id = form.get("client_id") or (basic[0] if basic else "")
    if not client_id:
        _require(form, "client_id")
    cloud = next(c for c in clouds if c.name == tenant.cloud)
    if v1:
        resource = _require(form, "resource")  # [unverified] code for a missing v1 resource
        audience = _check_resource(resource.rstrip("/") if resource.startswith("https://") else resource, tenant, cloud)
    elif "resource" in form:
        raise TokenError(901002, "invalid_request", "The 'resource' request parameter isn't supported.")
    else:
        audience = _check_scope(_require(form, "scope"), tenant, cloud)
    app = tenant.find_app(client_id)
    if app is None:
        raise TokenError(
            700016,
            "unauthorized_client",
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant.display_name}'. This can happen if the application has not been installed by "
            "the administrator of the tenant or consented to by any user in the tenant. You may have "
            "sent your authentication request to the wrong tenant.",
        )
    if not app.enabled:
        raise TokenError(
            7000112, "unauthorized_client", f"Application '{app.client_id}'({app.display_name}) is disabled."
        )
    credential_kind = _check_credential(form, basic, app, tenant, now)
    if app.blocked_by_conditional_access:
        # The `error` value for 53003 is not confirmed by a source (reference §1.4).
        raise TokenError(
            53003,
            "access_denied",
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        )
    # An Exchange Online token (SMTP AUTH, reference §8.1) carries Exchange's roles, not Graph's.
    roles = app.roles_for(EXCHANGE_API) if audience != cloud.graph_resource else None
    token = mint_access_token(tenant, app, audience, now=now, credential_kind=credential_kind, roles=roles)
    body: dict[str, object] = {
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME,
        "ext_expires_in": ACCESS_TOKEN_LIFETIME,
        "access_token": token,
    }
    if v1:
        # The v1 endpoint answers with strings and adds expires_on/not_before/resource (§1.1, V1-CC).
        body = {
            "token_type": "Bearer",
            "expires_in": str(ACCESS_TOKEN_LIFETIME),
            "ext_expires_in": str(ACCESS_TOKEN_LIFETIME),
            "expires_on": str(int(now) + ACCESS_TOKEN_LIFETIME),
            "not_before": str(int(now)),
            "resource": form["resource"],
            "access_token": token,
        }
    return json_response(body, 200, ests_headers(str(uuid.uuid4())))


def _check_scope(scope: str, tenant: Tenant, cloud: SandboxCloud) -> str:
    """The audience the scope asks for; AADSTS1002012/500011 if it is not a ``/.default`` of a known API."""
    audiences = []
    for item in scope.split():
        if not item.endswith("/.default"):
            raise TokenError(
                1002012,
                "invalid_scope",
                f"The provided value for scope {scope} is not valid. Client credential flows must "
                "have a scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        audiences.append(_check_resource(item[: -len("/.default")], tenant, cloud))
    return audiences[0] if audiences else cloud.graph_resource


def _check_resource(resource: str, tenant: Tenant, cloud: SandboxCloud) -> str:
    """The token audience for ``resource``: Graph's or Exchange Online's URI; AADSTS500011 otherwise."""
    exchange = exchange_cloud_for_resource(resource, cloud.name)
    if exchange is not None:
        return exchange.resource
    if resource not in (cloud.graph_resource, GRAPH_APP_ID):
        raise TokenError(
            500011,
            "invalid_resource",
            f"The resource principal named {resource} was not found in the tenant named "
            f"{tenant.display_name}. This can happen if the application has not been installed "
            "by the administrator of the tenant or consented to by any user in the tenant. You "
            "might have sent your authentication request to the wrong tenant.",
        )
    return cloud.graph_resource


def _check_credential(
    form: dict[str, str], basic: tuple[str, str] | None, app: AppRegistration, tenant: Tenant, now: float
) -> int:
    """Check the secret or certificate assertion; return ``appidacr`` (1 secret, 2 certificate)."""
    assertion = form.get("client_assertion", "")
    secret = form.get("client_secret", "") or (basic[1] if basic else "")
    if app.public_client and (assertion or secret):
        raise TokenError(
            700025,
            "invalid_client",
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        )
    if assertion:
        if _require(form, "client_assertion_type") != JWT_BEARER:
            raise TokenError(50027, "invalid_client", "JWT token is invalid or malformed.")
        try:
            check_client_assertion(assertion, app, tenant, now=now)
        except AssertionRejected as rejected:
            raise TokenError(rejected.code, "invalid_client", rejected.description) from None
        return 2
    if not secret:
        raise TokenError(
            7000218,
            "invalid_client",
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    moment = datetime.fromtimestamp(now, tz=UTC)
    matching = [s for s in app.secrets if s.value == secret]
    if not matching:
        raise TokenError(
            7000215,
            "invalid_client",
            "Invalid client secret provided. Ensure the secret being sent in the request is the client "
            f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
        )
    if all(s.is_expired(moment) for s in matching):
        raise TokenError(
            7000222,
            "invalid_client",
            f"The provided client secret keys for app '{app.client_id}' are expired. Visit the Azure "
            "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
            "certificate credentials for added security: https://aka.ms/certCreds.",
        )
    return 1
