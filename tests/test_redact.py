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


def test_form_fields_inside_json_strings_keep_the_json_valid():
    """An echoed form body inside a report's JSON string: the mask must not eat the backslash that
    escapes the closing quote (the difftest found a report that no longer parsed)."""
    body = json.dumps({"data": "client_id=x&client_secret=a\\b%7B&refresh_token=%7B%7Bt%7D%7D", "files": {}})
    for document in ({"body": body}, {"body": json.dumps({"nested": body})}):
        masked = Redactor().text(json.dumps(document))
        assert json.loads(masked) and "a\\\\b" not in masked and "%7Bt%7D" not in masked
        assert f"client_secret={MASK}&refresh_token={MASK}" in masked


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


def test_forms_are_masked_in_any_letter_case_and_as_base64_and_html():
    from html import escape

    redactor = Redactor([CANARY])
    for shown in (CANARY.lower(), CANARY.upper(), base64.b64encode(CANARY.encode()).decode(), escape(CANARY)):
        assert redactor.text(f"x {shown} y") == f"x {MASK} y", shown


def test_transient_values_are_bounded_and_pinned_ones_stay():
    from o365check.redact import TRANSIENT_LIMIT

    redactor = Redactor([CANARY])
    for n in range(TRANSIENT_LIMIT * 3):
        redactor.add(f"opaque-token-{n:06d}", transient=True)
    assert f"opaque-token-{0:06d}" not in redactor  # the oldest fell out
    assert redactor.text(f"opaque-token-{TRANSIENT_LIMIT * 3 - 1:06d}") == MASK  # the newest is masked
    assert CANARY in redactor and redactor.text(CANARY) == MASK  # inputs' secrets are never dropped
    assert len(redactor._forms) <= (TRANSIENT_LIMIT + 1) * 16


def test_jwt_shaped_transient_tokens_are_not_stored_but_still_masked():
    jwt = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJl"
    redactor = Redactor()
    redactor.add(jwt, transient=True)
    assert jwt not in redactor
    assert redactor.text(f"token {jwt}") == f"token {MASK}"
    assert redactor.text(f"token {jwt.lower()}") == f"token {MASK}"


def test_masked_stream_catches_a_secret_split_across_writes():
    import io

    from o365check.redact import MaskedStream

    target = io.StringIO()
    stream = MaskedStream(target, Redactor([CANARY]))
    stream.write("start " + CANARY[:5])
    stream.write(CANARY[5:] + " end")
    stream.flush()
    assert target.getvalue() == f"start {MASK} end"


def test_console_stream_escapes_control_characters_but_keeps_own_colours():
    import io

    from o365check.redact import MaskedStream

    target = io.StringIO()
    stream = MaskedStream(target, Redactor(), console=True)
    stream.write("\x1b[31mred\x1b[0m \x1b]0;title\x07 \u202e \ud800\n")
    stream.flush()
    assert target.getvalue() == "\x1b[31mred\x1b[0m \\x1b]0;title\\x07 \\u202e \\ud800\n"


def test_logging_filter_masks_tracebacks():
    logger = logging.getLogger("o365check.test.tb")
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(RedactingFilter(Redactor([CANARY])))
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"bad {CANARY}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert CANARY not in records[0].exc_text and "ValueError" in records[0].exc_text
