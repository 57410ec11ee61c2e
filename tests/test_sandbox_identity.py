"""Identity endpoints: discovery, JWKS and every token-endpoint validation rule (reference §1, §2)."""

from __future__ import annotations

import base64
import re
import time
import uuid

import jwt
import pytest
from sandbox_helpers import (
    LOGIN,
    make_certificate,
    mounted_session,
    post_token,
    token_form,
    token_url,
)

from o365check.sandbox import Sandbox


@pytest.fixture
def box():
    return Sandbox("ok")


@pytest.fixture
def session(box):
    return mounted_session(box)


def aadsts(response) -> int:
    return response.json()["error_codes"][0]


def test_error_json_has_microsofts_exact_shape(box, session):
    correlation = str(uuid.uuid4())
    response = session.post(
        token_url(box), data=token_form(box, client_secret="nope"), headers={"client-request-id": correlation}
    )
    body = response.json()
    assert response.status_code == 401
    assert list(body) == [
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    ]
    assert body["correlation_id"] == correlation
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", body["timestamp"])
    assert body["error_description"] == (
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
        "the client secret value, not the client secret ID, for a secret added to app "
        f"'{box.credentials['client_id']}'.\r\nTrace ID: {body['trace_id']}\r\nCorrelation ID: "
        f"{correlation}\r\nTimestamp: {body['timestamp']}"
    )
    assert body["error_uri"] == "https://login.microsoftonline.com/error?code=7000215"
    assert response.headers["x-ms-request-id"] == body["trace_id"]
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store, no-cache"
    assert "Date" in response.headers


def test_success_body_and_claims(box, session):
    response = post_token(session, box)
    body = response.json()
    assert list(body) == ["token_type", "expires_in", "ext_expires_in", "access_token"]
    assert (body["token_type"], body["expires_in"], body["ext_expires_in"]) == ("Bearer", 3599, 3599)
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == header["x5t"]
    keys = session.get(f"{LOGIN}/{box.tenant.tenant_id}/discovery/v2.0/keys").json()["keys"]
    public_key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(body["access_token"], public_key, algorithms=["RS256"], audience="https://graph.microsoft.com")
    tid, app = box.tenant.tenant_id, box.tenant.app
    assert claims["iss"] == f"https://sts.windows.net/{tid}/" and claims["tid"] == tid
    assert claims["appid"] == app.client_id and claims["appidacr"] == "1"
    assert claims["oid"] == claims["sub"] == app.service_principal_id
    assert claims["idtyp"] == "app" and claims["ver"] == "1.0" and "scp" not in claims
    assert all(isinstance(claims[k], int) for k in ("iat", "nbf", "exp"))


def test_roles_claim_absent_without_consented_application_permissions(box, session):
    box.tenant.app.permissions[0].consented = False
    token = post_token(session, box).json()["access_token"]
    assert "roles" not in jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("how", ["json", "query"])
def test_body_must_be_form_encoded(box, session, how):
    if how == "json":
        response = session.post(token_url(box), json=token_form(box))
    else:
        response = session.post(token_url(box), params=token_form(box))
    assert response.status_code == 400 and aadsts(response) == 900144
    assert (
        "The request body must contain the following parameter: 'grant_type'." in response.json()["error_description"]
    )


@pytest.mark.parametrize("missing", ["client_id", "scope"])
def test_missing_parameter_is_named(box, session, missing):
    response = post_token(session, box, **{missing: None})
    assert aadsts(response) == 900144 and f"parameter: '{missing}'" in response.json()["error_description"]


def test_missing_credential(box, session):
    response = post_token(session, box, client_secret=None)
    assert response.status_code == 401 and aadsts(response) == 7000218


def test_scope_without_default(box, session):
    response = post_token(session, box, scope="https://graph.microsoft.com/Mail.Send")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    assert response.json()["error_description"].startswith(
        "AADSTS1002012: The provided value for scope https://graph.microsoft.com/Mail.Send is not valid. "
        "Client credential flows must have a scope value with /.default suffixed to the resource "
        "identifier (application ID URI)."
    )


@pytest.mark.parametrize(
    "scope",
    [
        "https://graph.microsoft.us/.default",
        "graph.microsoft.com/.default",
        "https://https://graph.microsoft.com//.default",
    ],
)
def test_scope_of_another_resource(box, session, scope):
    response = post_token(session, box, scope=scope)
    assert response.status_code == 400 and aadsts(response) == 500011
    assert response.json()["error"] == "invalid_resource"


def test_graph_app_id_scope_is_accepted(box, session):
    assert post_token(session, box, scope="00000003-0000-0000-c000-000000000000/.default").status_code == 200


def test_resource_parameter_is_refused_on_v2(box, session):
    response = post_token(session, box, scope=None, resource="https://graph.microsoft.com")
    assert aadsts(response) == 901002


@pytest.mark.parametrize(
    "tenant,code",
    [
        ("common", 9001023),
        ("consumers", 9001023),
        ("organizations", 50059),
        ("{{tenantid}}", 900023),
        ("contoso", 900023),
        ("fabrikam.onmicrosoft.us", 90002),
    ],
)
def test_tenant_segment(box, session, tenant, code):
    response = session.post(token_url(box, tenant), data=token_form(box))
    assert response.status_code == 400 and aadsts(response) == code


def test_unsupported_grant_type(box, session):
    response = post_token(session, box, grant_type="password")
    assert response.json()["error"] == "unsupported_grant_type"


def test_http_basic_client_authentication(box, session):
    form = token_form(box, client_secret=None, client_id=None)
    good = session.post(
        token_url(box), data=form, auth=(box.credentials["client_id"], box.credentials["client_secret"])
    )
    assert good.status_code == 200
    bad = session.post(token_url(box), data=form, auth=(box.credentials["client_id"], "wrong"))
    assert aadsts(bad) == 7000215


def test_public_client_may_not_send_a_secret(box, session):
    box.tenant.app.public_client = True
    assert aadsts(post_token(session, box)) == 700025


def test_secret_expiry_follows_the_clock():
    box = Sandbox("ok", clock=lambda: time.time() + 400 * 86400)
    assert aadsts(post_token(mounted_session(box), box)) == 7000222


def test_get_on_token_endpoint_is_refused(box, session):
    assert session.get(token_url(box)).status_code == 400


# --- discovery ---------------------------------------------------------------------------


def test_tenant_discovery_document(box, session):
    tid = box.tenant.tenant_id
    doc = session.get(f"{LOGIN}/contoso.example/v2.0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == f"{LOGIN}/{tid}/oauth2/v2.0/token"
    assert doc["issuer"] == f"{LOGIN}/{tid}/v2.0"
    assert doc["jwks_uri"] == f"{LOGIN}/{tid}/discovery/v2.0/keys"
    assert doc["msgraph_host"] == "graph.microsoft.com"
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]


def test_unknown_tenant_discovery_is_invalid_tenant(box, session):
    response = session.get(f"{LOGIN}/{uuid.uuid4()}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400 and response.json()["error"] == "invalid_tenant"
    assert (
        "Tenant '" in response.json()["error_description"] and "correct cloud" in response.json()["error_description"]
    )


def test_tenant_of_another_cloud_is_found_only_on_its_host(box, session):
    path = "/fabrikam.onmicrosoft.us/v2.0/.well-known/openid-configuration"
    assert aadsts(session.get(LOGIN + path)) == 90002
    doc = session.get("https://login.microsoftonline.us" + path).json()
    assert doc["msgraph_host"] == "graph.microsoft.us"
    assert doc["token_endpoint"].startswith("https://login.microsoftonline.us/")


def test_instance_discovery_is_served(box, session):
    response = session.get(
        f"{LOGIN}/common/discovery/instance",
        params={"api-version": "1.1", "authorization_endpoint": f"{LOGIN}/common/oauth2/authorize"},
    )
    body = response.json()
    assert response.status_code == 200 and body["api-version"] == "1.1"
    assert any("login.windows.net" in entry["aliases"] for entry in body["metadata"])


def test_discovery_honours_forwarded_host_and_proto(box, session):
    response = session.get(
        f"http://login.microsoftonline.com/{box.tenant.tenant_id}/v2.0/.well-known/openid-configuration",
        headers={"X-Forwarded-Host": "sandbox.contoso.example:8443", "X-Forwarded-Proto": "https"},
    )
    assert response.json()["token_endpoint"].startswith("https://sandbox.contoso.example:8443/")


def test_national_cloud_tokens_use_that_clouds_graph(box, session):
    box.tenant.cloud = "china"
    base = "https://login.partner.microsoftonline.cn"
    assert aadsts(post_token(session, box)) == 90002  # no longer on the global host
    response = session.post(
        token_url(box, base=base), data=token_form(box, scope="https://microsoftgraph.chinacloudapi.cn/.default")
    )
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://microsoftgraph.chinacloudapi.cn"


# --- certificate assertions, built by hand --------------------------------------------------


def assertion(box, key_pem, cert_pem, *, alg="PS256", now=None, lifetime=600, pad=True, key=None):
    from cryptography import x509
    from cryptography.hazmat.primitives.hashes import SHA1, SHA256

    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    digest = cert.fingerprint(SHA256() if alg == "PS256" else SHA1())
    thumb = base64.urlsafe_b64encode(digest).decode()
    thumb = thumb if pad else thumb.rstrip("=")
    now = time.time() if now is None else now
    claims = {
        "aud": token_url(box),
        "iss": box.tenant.app.client_id,
        "sub": box.tenant.app.client_id,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + lifetime,
    }  # floats, as MSAL sends
    header = {"x5t#S256": thumb} if alg == "PS256" else {"x5t": thumb}
    return jwt.encode(claims, key or key_pem, algorithm=alg, headers=header)


def post_assertion(session, box, value):
    return session.post(
        token_url(box),
        data=token_form(
            box,
            client_secret=None,
            client_assertion=value,
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
    )


@pytest.mark.parametrize("alg,pad", [("PS256", True), ("RS256", False)])
def test_assertion_accepted_with_float_times_and_any_padding(box, session, alg, pad):
    key_pem, cert_pem = make_certificate()
    box.tenant.app.add_certificate(cert_pem)
    response = post_assertion(session, box, assertion(box, key_pem, cert_pem, alg=alg, pad=pad))
    assert response.status_code == 200, response.text


def test_assertion_outside_time_range(box, session):
    key_pem, cert_pem = make_certificate()
    box.tenant.app.add_certificate(cert_pem)
    response = post_assertion(session, box, assertion(box, key_pem, cert_pem, now=time.time() - 7200))
    assert response.status_code == 401 and aadsts(response) == 700024
    assert "Client assertion is not within its valid time range." in response.json()["error_description"]


def test_assertion_signed_with_another_key(box, session):
    _, cert_pem = make_certificate()
    other_key, _ = make_certificate()
    box.tenant.app.add_certificate(cert_pem)
    response = post_assertion(session, box, assertion(box, other_key, cert_pem))
    assert aadsts(response) == 700027


def test_unregistered_certificate_names_its_thumbprint(box, session):
    key_pem, cert_pem = make_certificate()
    response = post_assertion(session, box, assertion(box, key_pem, cert_pem, alg="RS256"))
    from cryptography import x509
    from cryptography.hazmat.primitives.hashes import SHA1

    thumbprint = x509.load_pem_x509_certificate(cert_pem.encode()).fingerprint(SHA1()).hex().upper()
    assert aadsts(response) == 700027
    assert f"Thumbprint of key used by client: '{thumbprint}'" in response.json()["error_description"]


# --- legacy v1 endpoint ---------------------------------------------------------------------


def test_v1_endpoint_takes_resource_and_answers_with_strings(box, session):
    url = f"{LOGIN}/{box.tenant.tenant_id}/oauth2/token"
    response = session.post(url, data=token_form(box, scope=None, resource="https://graph.microsoft.com/"))
    body = response.json()
    assert response.status_code == 200 and body["expires_in"] == "3599"
    assert body["resource"] == "https://graph.microsoft.com/" and int(body["expires_on"]) > int(body["not_before"])
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com"
    wrong = session.post(url, data=token_form(box, scope=None, resource="https://outlook.office.com"))
    assert aadsts(wrong) == 500011
