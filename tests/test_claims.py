"""Claims are read without verifying the signature and compared with the settings (reference §3)."""

import base64
import json
import time

import pytest

from o365check.claims import check_claims, read_unverified_claims
from o365check.settings import Settings

TENANT = "8c7e6f0a-3b1d-4c2e-9f5a-1d2e3f4a5b6c"
CLIENT = "4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d"
SETTINGS = Settings(tenant_id=TENANT, client_id=CLIENT, sender="a@contoso.example")


def make_token(**claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    base = {
        "aud": "https://graph.microsoft.com",
        "tid": TENANT,
        "appid": CLIENT,
        "roles": ["Mail.Send"],
        "idtyp": "app",
        "exp": int(time.time()) + 3600,
        "ver": "1.0",
    }
    base.update(claims)
    return f"{part({'typ': 'JWT', 'alg': 'RS256', 'nonce': 'x'})}.{part({k: v for k, v in base.items() if v is not None})}.not-a-valid-signature"


def failed(token, settings=SETTINGS):
    return [c.code for c in check_claims(read_unverified_claims(token), settings) if not c.passed]


def test_good_token_passes_without_signature_check():
    assert failed(make_token()) == []


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"aud": "https://outlook.office.com"}, "claims-aud-wrong"),
        ({"tid": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"}, "claims-tid-wrong"),
        ({"appid": "9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b"}, "claims-appid-wrong"),
        ({"roles": None}, "claims-roles-missing"),
        ({"roles": ["User.Read.All"]}, "claims-mail-send-missing"),
        ({"scp": "Mail.Send", "idtyp": "user"}, "claims-not-app-only"),
        ({"exp": int(time.time()) - 10}, "claims-expired"),
    ],
)
def test_each_wrong_claim_is_named(claims, code):
    assert failed(make_token(**claims)) == [code]


def test_graph_app_id_audience_and_v2_azp_are_accepted():
    token = make_token(aud="00000003-0000-0000-c000-000000000000", appid=None, azp=CLIENT)
    assert failed(token) == []


def test_national_cloud_audience():
    usgov = Settings(tenant_id=TENANT, client_id=CLIENT, sender="a@contoso.example", cloud="usgov")
    assert failed(make_token(aud="https://graph.microsoft.us"), usgov) == []
    assert failed(make_token(), usgov) == ["claims-aud-wrong"]


def test_domain_tenant_accepts_any_tid():
    settings = Settings(tenant_id="contoso.onmicrosoft.com", client_id=CLIENT, sender="a@contoso.example")
    assert failed(make_token(), settings) == []


@pytest.mark.parametrize(
    "token", ["not-a-jwt", "a.b", "a.!!!.c", "a." + base64.urlsafe_b64encode(b"[1]").decode() + ".c"]
)
def test_unreadable_tokens_raise_value_error(token):
    with pytest.raises(ValueError):
        read_unverified_claims(token)
