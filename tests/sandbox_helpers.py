"""Shared helpers for the sandbox tests: plain requests calls against a mounted Sandbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests

from o365check.sandbox import Sandbox

LOGIN = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def mounted_session(box: Sandbox) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    box.mount(session)
    return session


def token_form(box: Sandbox, **changes: Any) -> dict[str, str]:
    form = {
        "client_id": box.credentials["client_id"],
        "client_secret": box.credentials["client_secret"],
        "grant_type": "client_credentials",
        "scope": GRAPH_SCOPE,
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def token_url(box: Sandbox, tenant: str | None = None, base: str = LOGIN) -> str:
    return f"{base}/{tenant or box.credentials['tenant_id']}/oauth2/v2.0/token"


def post_token(session: requests.Session, box: Sandbox, **changes: Any) -> requests.Response:
    return session.post(token_url(box), data=token_form(box, **changes))


def fetch_token(session: requests.Session, box: Sandbox) -> str:
    response = post_token(session, box)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_message(recipient: str, subject: str = "o365check test") -> dict[str, Any]:
    return {
        "message": {
            "subject": subject,
            "body": {"contentType": "Text", "content": "Sent by the o365check sandbox tests."},
            "toRecipients": [{"emailAddress": {"address": recipient}}],
        },
        "saveToSentItems": False,
    }


test_message.__test__ = False  # a helper, not a test


def send_mail(
    session: requests.Session,
    box: Sandbox,
    token: str,
    payload: Any = None,
    sender: str | None = None,
    base: str = GRAPH,
    **kwargs: Any,
) -> requests.Response:
    payload = test_message(box.credentials["recipient"]) if payload is None else payload
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return session.post(
        f"{base}/v1.0/users/{sender or box.credentials['sender']}/sendMail",
        headers=headers,
        json=payload,
        **kwargs,
    )


def make_certificate(common_name: str = "o365check test") -> tuple[str, str]:
    """A fresh RSA key and self-signed certificate as PEM strings (key, certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()
