"""Sessions: CA handling beats REQUESTS_CA_BUNDLE; ambiguous failures are told apart."""

import requests
import urllib3

from o365check.http import build_session, describe_connection_error, went_out


def test_session_verify_path_wins_over_ca_bundle_env(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    ca = tmp_path / "ca.pem"
    session = build_session(verify=str(ca))
    merged = session.merge_environment_settings("https://127.0.0.1/", {}, None, None, None)
    assert merged["verify"] == str(ca)
    plain = build_session()
    assert (
        plain.merge_environment_settings("https://127.0.0.1/", {}, None, None, None)["verify"]
        == "/etc/ssl/certs/ca-certificates.crt"
    )


def test_read_timeout_and_reset_went_out_but_refused_did_not():
    assert went_out(requests.ReadTimeout("read timed out"))
    reset = requests.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    )
    assert went_out(reset)
    refused = requests.ConnectionError(urllib3.exceptions.NewConnectionError(None, "Connection refused"))
    assert not went_out(refused)
    assert not went_out(requests.ConnectTimeout("connect timed out"))


def test_connection_errors_name_the_host():
    error = describe_connection_error(
        requests.ConnectionError("Failed to resolve 'login.microsoftonline.com' NameResolutionError"),
        "https://login.microsoftonline.com/x",
    )
    assert error.host == "login.microsoftonline.com" and "resolved" in error.reason and error.exit_code == 3


def test_debug_log_masks_secrets_at_the_source(caplog):
    import logging

    from o365check.sandbox import Sandbox

    session = build_session(sandbox=Sandbox("ok"))
    with caplog.at_level(logging.DEBUG, logger="o365check.http"):
        session.post(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            data={"client_id": "x", "client_secret": "CANARY-never-logged", "grant_type": "client_credentials"},
            headers={"Authorization": "Bearer CANARY-token-value"},
        )
    assert "POST https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token" in caplog.text
    assert "CANARY-never-logged" not in caplog.text and "CANARY-token-value" not in caplog.text
