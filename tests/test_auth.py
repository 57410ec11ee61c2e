"""Tokens through real MSAL and as Postman sends them, against the in-process sandbox."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from o365check.auth import acquire_app_token, postman_token_request, request_token_like_postman
from o365check.claims import read_unverified_claims
from o365check.errors import TokenError, UsageError
from o365check.http import build_session
from o365check.sandbox import Sandbox
from o365check.sandbox.faults import Faults
from o365check.settings import Settings


def settings_for(box, **changes):
    values = dict(box.credentials)
    values.update(changes)
    return Settings._build({k: v for k, v in values.items() if v is not None}, {})


@pytest.fixture(scope="module")
def certificate_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "o365check test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem + cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.PEM)


def test_msal_token_has_app_only_claims():
    box = Sandbox("ok")
    token = acquire_app_token(settings_for(box), build_session(sandbox=box))
    claims = read_unverified_claims(token.access_token.reveal())
    assert claims["roles"] == ["Mail.Send"] and claims["appidacr"] == "1" and token.method == "msal"
    assert "eyJ" not in repr(token)


def test_certificate_credential_through_msal(tmp_path, certificate_pem):
    combined, cert_only = certificate_pem
    box = Sandbox("ok")
    box.tenant.app.add_certificate(cert_only)
    path = tmp_path / "app.pem"
    path.write_bytes(combined)
    settings = settings_for(box, client_secret=None, certificate_path=str(path))
    token = acquire_app_token(settings, build_session(sandbox=box))
    assert read_unverified_claims(token.access_token.reveal())["appidacr"] == "2"


def test_unregistered_certificate_is_aadsts700027(tmp_path, certificate_pem):
    box = Sandbox("ok")
    path = tmp_path / "app.pem"
    path.write_bytes(certificate_pem[0])
    with pytest.raises(TokenError) as info:
        acquire_app_token(settings_for(box, client_secret=None, certificate_path=str(path)), build_session(sandbox=box))
    assert info.value.error_code == "AADSTS700027" and info.value.status == 401


def test_unreadable_certificate_is_a_usage_error(tmp_path):
    box = Sandbox("ok")
    path = tmp_path / "not.pem"
    path.write_text("not a pem")
    with pytest.raises(UsageError, match="must be a PEM file"):
        acquire_app_token(settings_for(box, client_secret=None, certificate_path=str(path)), build_session(sandbox=box))


def test_token_error_keeps_status_and_ids():
    box = Sandbox("secret-expired")
    with pytest.raises(TokenError) as info:
        acquire_app_token(settings_for(box), build_session(sandbox=box))
    error = info.value
    assert (error.error_code, error.error, error.status) == ("AADSTS7000222", "invalid_client", 401)
    assert error.trace_id and error.correlation_id and error.timestamp


def test_postman_request_is_byte_for_byte_the_guides():
    box = Sandbox("ok")
    settings = settings_for(box, client_secret="a+b&c=d/e")
    request = postman_token_request(settings)
    assert request.method == "POST"
    assert request.url == f"https://login.microsoftonline.com/{settings.tenant_id}/oauth2/v2.0/token"
    assert request.data == (
        f"client_id={settings.client_id}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        "&client_secret=a%2Bb%26c%3Dd%2Fe&grant_type=client_credentials"
    )
    assert request.headers["User-Agent"].startswith("PostmanRuntime/")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_postman_style_request_sends_only_postmans_headers():
    box = Sandbox("ok")
    session = build_session(sandbox=box)
    seen = []
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
    token = request_token_like_postman(settings_for(box), session)
    assert token.method == "postman"
    sent = seen[-1]
    assert "python-requests" not in sent.headers.get("User-Agent", "")
    assert {k.lower() for k in sent.headers} == {
        "content-type",
        "user-agent",
        "accept",
        "cache-control",
        "postman-token",
        "accept-encoding",
        "connection",
        "content-length",
    }


def test_postman_style_request_errors_are_token_errors():
    box = Sandbox("wrong-secret")
    with pytest.raises(TokenError) as info:
        request_token_like_postman(settings_for(box), build_session(sandbox=box))
    assert info.value.error_code == "AADSTS7000215" and info.value.status == 401


# -- one token fetch: the doctor's Postman-style request and the runner's OAuth 2.0 helper ----------
def _both_fetches(box):
    """The same refusal, asked for by the doctor's Postman-style request and by the runner's helper."""
    from o365check.postman.auth import ClientCredentialsTokens, OAuth2Settings

    settings = settings_for(box)
    session = build_session(sandbox=box)
    errors = []
    with pytest.raises(TokenError) as doctor:
        request_token_like_postman(settings, session)
    errors.append(doctor.value)
    oauth2 = OAuth2Settings(
        token_url=f"https://login.microsoftonline.com/{settings.tenant_id}/oauth2/v2.0/token",
        client_id=settings.client_id,
        client_secret=settings.client_secret.reveal(),
        scope="https://graph.microsoft.com/.default",
        client_authentication="body",
        secret_variable="client_secret",
    )
    with pytest.raises(TokenError) as runner:
        ClientCredentialsTokens(session).fetch_token(oauth2)
    errors.append(runner.value)
    return errors


@pytest.mark.parametrize("scenario", ["secret-id-not-value", "app-not-found", "secret-expired", "app-disabled"])
def test_both_token_fetches_map_a_refusal_the_same_way(scenario):
    doctor, runner = _both_fetches(Sandbox(scenario))
    assert (doctor.error_code, doctor.status, doctor.host) == (runner.error_code, runner.status, runner.host)
    assert str(doctor) == str(runner)


def test_both_token_fetches_map_an_answer_without_a_token_the_same_way():
    box = Sandbox("ok")
    box.faults = Faults(statuses=(503,), rate=1.0)
    doctor, runner = _both_fetches(box)
    assert doctor.error_code == runner.error_code
    assert (doctor.status, doctor.host) == (runner.status, runner.host) == (503, "login.microsoftonline.com")
