"""Masking: registered secrets in every encoding, secret-by-name fields, tokens by pattern."""

import base64
import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from o365check.redact import MASK, RedactingFilter, Redactor, is_secret_name

CANARY = "CANARY+s3cr/t=V~al&ue"


@pytest.mark.parametrize(
    "encode", [lambda v: v, quote_plus, lambda v: quote(v, safe=""), lambda v: json.dumps(v)[1:-1]]
)
def test_secret_is_masked_in_every_encoding(encode):
    redactor = Redactor([CANARY])
    text = f"before {encode(CANARY)} after"
    assert redactor.text(text) == f"before {MASK} after"


def test_basic_auth_form_is_masked():
    redactor = Redactor([CANARY])
    redactor.add_basic("client-id", CANARY)
    basic = base64.b64encode(f"client-id:{CANARY}".encode()).decode()
    assert basic not in redactor.text(f"Authorization: Basic {basic}")
    assert basic not in Redactor().text(f"Authorization: Basic {basic}")  # by pattern too


def test_tokens_are_masked_by_pattern_even_when_unknown():
    jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJlLXBhcnQ"
    text = Redactor().text(f'{{"access_token": "{jwt}"}} Authorization: Bearer opaque-token-value')
    assert jwt not in text and "opaque-token-value" not in text


def test_form_fields_secret_by_name_are_masked():
    text = Redactor().text("client_id=abc&client_secret=unregistered-value&grant_type=client_credentials")
    assert text == f"client_id=abc&client_secret={MASK}&grant_type=client_credentials"


def test_data_masks_postman_style_entries_and_headers():
    data = {
        "values": [
            {"key": "AppAccessToken", "value": "tok"},
            {"key": "pw", "value": "x1234", "type": "secret"},
            {"key": "tenant_id", "value": "t-1"},
        ],
        "header": {"Authorization": "Bearer zzzzzzzzzz"},
    }
    masked = Redactor().data(data)
    assert masked["values"][0]["value"] == MASK
    assert masked["values"][1]["value"] == MASK
    assert masked["values"][2]["value"] == "t-1"
    assert masked["header"]["Authorization"] == f"Bearer {MASK}"


@pytest.mark.parametrize(
    "name", ["client_secret", "Authorization", "AppAccessToken", "api-key", "password", "clientSecret"]
)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["tenant_id", "token_type", "accessTokenUrl", "tokenName", "sender", "scope"])
def test_not_secret_names(name):
    assert not is_secret_name(name)


def test_short_values_are_not_registered():
    assert Redactor(["ab"]).text("ab cab") == "ab cab"


def test_logging_filter_masks_records(caplog):
    logger = logging.getLogger("o365check.test")
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(RedactingFilter(Redactor([CANARY])))
    logger.addHandler(handler)
    try:
        logger.warning("posting %s", f"client_secret={quote_plus(CANARY)}")
    finally:
        logger.removeHandler(handler)
    assert CANARY not in records[0].getMessage() and quote_plus(CANARY) not in records[0].getMessage()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Request bearer overrides collection auth", False),
        ("Authorization: Bearer PRE-STORED-TOKEN", True),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", True),
        ("Bearer t0ken42", True),
    ],
)
def test_bearer_pattern_masks_credentials_not_words(text, masked):
    assert (MASK in Redactor().text(text)) is masked
