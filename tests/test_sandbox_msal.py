"""Real MSAL against the sandbox: in-process routing and the loopback HTTPS server."""

from __future__ import annotations

import hashlib

import jwt
import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sandbox_helpers import GRAPH_SCOPE, LOGIN, make_certificate, mounted_session, send_mail

from o365check.sandbox import SCENARIOS, Sandbox

TOKEN_SCENARIOS = [s.name for s in SCENARIOS.values() if s.error_endpoint == "token"]


def msal_app(box: Sandbox, session: requests.Session, credential=None, **kwargs) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        box.credentials["client_id"],
        client_credential=credential or box.credentials["client_secret"],
        authority=kwargs.pop("authority", f"{LOGIN}/{box.credentials['tenant_id']}"),
        http_client=session,
        **kwargs,
    )


def test_msal_gets_a_token_in_process_and_graph_accepts_it():
    box = Sandbox("ok")
    session = mounted_session(box)
    result = msal_app(box, session).acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert result["token_type"] == "Bearer" and result["expires_in"] > 3500
    assert result["token_source"] == "identity_provider"
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["appidacr"] == "1" and claims["roles"] == ["Mail.Send"]
    assert send_mail(session, box, result["access_token"]).status_code == 202


def test_msal_with_a_tenant_domain_authority():
    box = Sandbox("ok")
    session = mounted_session(box)
    app = msal_app(box, session, authority=f"{LOGIN}/contoso.onmicrosoft.com")
    result = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert jwt.decode(result["access_token"], options={"verify_signature": False})["tid"] == box.tenant.tenant_id


@pytest.mark.parametrize("name", TOKEN_SCENARIOS)
def test_msal_returns_microsofts_error_dict(name):
    box = Sandbox(name)
    scenario = box.scenario
    result = msal_app(box, mounted_session(box)).acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert "access_token" not in result
    assert result["error"] == scenario.oauth_error
    assert result["error_codes"] == [int(scenario.error_code.removeprefix("AADSTS"))]
    assert result["error_description"].startswith(f"{scenario.error_code}: ")
    assert "\r\nTrace ID: " in result["error_description"]
    # MSAL sends client-request-id; ESTS echoes it as the correlation id.
    assert result["correlation_id"] in result["error_description"]


def test_msal_tenant_not_found_fails_at_construction():
    box = Sandbox("tenant-not-found")
    with pytest.raises(ValueError, match="Unable to get authority configuration") as info:
        msal_app(box, mounted_session(box))
    assert "AADSTS90002" in str(info.value.__context__)


@pytest.mark.parametrize("style", ["public_certificate", "thumbprint"])
def test_msal_certificate_credential(style):
    box = Sandbox("ok")
    key_pem, cert_pem = make_certificate()
    box.tenant.app.add_certificate(cert_pem)
    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(Encoding.DER)
    if style == "public_certificate":  # MSAL signs PS256 with x5t#S256 (reference §2.1)
        credential = {"private_key": key_pem, "public_certificate": cert_pem}
    else:  # RS256 with x5t (SHA-1)
        credential = {"private_key": key_pem, "thumbprint": hashlib.sha1(der).hexdigest()}
    result = msal_app(box, mounted_session(box), credential).acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert "access_token" in result, result
    assert jwt.decode(result["access_token"], options={"verify_signature": False})["appidacr"] == "2"


def test_msal_certificate_not_registered_gives_700027():
    box = Sandbox("ok")
    key_pem, cert_pem = make_certificate()
    credential = {"private_key": key_pem, "public_certificate": cert_pem}
    result = msal_app(box, mounted_session(box), credential).acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert result["error"] == "invalid_client" and result["error_codes"] == [700027]
    assert "The key was not found." in result["error_description"]


@pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
def test_msal_over_loopback_https():
    box = Sandbox("ok")
    with box.serve(tls=True) as server:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify (reference §2.3)
        session.verify = server.ca_path
        app = msal_app(
            box, session, authority=f"{server.base_url}/{box.credentials['tenant_id']}", instance_discovery=False
        )
        result = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        assert "access_token" in result, result
        sent = send_mail(session, box, result["access_token"], base=server.base_url)
        assert sent.status_code == 202
        outbox = session.get(f"{server.base_url}/_sandbox/outbox").json()
        assert [m["to"] for m in outbox] == [[box.credentials["recipient"]]]
        assert session.get(f"{server.base_url}/_sandbox/scenario").text == "ok"


@pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
def test_msal_over_loopback_https_error_and_certificate():
    box = Sandbox("wrong-secret")
    key_pem, cert_pem = make_certificate()
    box.tenant.app.add_certificate(cert_pem)
    with box.serve(tls=True) as server:
        session = requests.Session()
        session.trust_env = False
        session.verify = server.ca_path
        authority = f"{server.base_url}/{box.credentials['tenant_id']}"
        failed = msal_app(box, session, authority=authority, instance_discovery=False)
        result = failed.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        assert result["error"] == "invalid_client" and result["error_codes"] == [7000215]
        with_cert = msal_app(
            box,
            session,
            {"private_key": key_pem, "public_certificate": cert_pem},
            authority=authority,
            instance_discovery=False,
        )
        assert "access_token" in with_cert.acquire_token_for_client(scopes=[GRAPH_SCOPE])
