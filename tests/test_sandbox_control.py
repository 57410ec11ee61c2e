"""The served sandbox's control API (control.py) and `sandbox serve`'s options for test suites."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from werkzeug.test import Client

from o365check.sandbox import Sandbox
from o365check.sandbox.certificates import new_client_certificate

loopback = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
O365CHECK = str(Path(sys.executable).with_name("o365check"))


def control(box: Sandbox, method: str, path: str, remote: str = "127.0.0.1", **kwargs):
    client = Client(box.app)
    return client.open(
        path, method=method, base_url="http://127.0.0.1:8400", environ_base={"REMOTE_ADDR": remote}, **kwargs
    )


def test_outbox_scenario_reset_and_faults():
    box = Sandbox("ok")
    box.outbox.append({"subject": "x"})
    assert control(box, "GET", "/_sandbox/outbox").json == [{"subject": "x"}]
    assert control(box, "DELETE", "/_sandbox/outbox").json == {"deleted": 1} and box.outbox == []
    state = control(box, "PUT", "/_sandbox/scenario", json={"name": "secret-id-not-value"}).json
    assert state["scenario"] == "secret-id-not-value" == box.scenario.name
    assert state["credentials"]["client_secret"] == box.credentials["client_secret"] != "sBx8Q"
    assert control(box, "GET", "/_sandbox/scenario").text == "secret-id-not-value"
    faults = control(box, "PUT", "/_sandbox/faults", json={"rate": 1.0, "statuses": [503], "seed": 3}).json
    assert faults["rate"] == 1.0 and box.faults.statuses == (503,)
    assert control(box, "POST", "/_sandbox/reset").json["faults"]["rate"] == 0.0
    assert control(box, "POST", "/_sandbox/reset", data="ok").json["scenario"] == "ok"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "text"),
    [
        ("PUT", "/_sandbox/scenario", {"name": "nope"}, 400, "unknown sandbox scenario 'nope'; use one of: ok,"),
        ("PUT", "/_sandbox/faults", {"rate": 0.5, "colour": 1}, 400, "unknown fault field(s) ['colour']"),
        ("PUT", "/_sandbox/faults", {"statuses": [418]}, 400, "Faults.statuses has [418]"),
        ("POST", "/_sandbox/certificates", "not a pem", 400, "not a PEM certificate"),
        ("PATCH", "/_sandbox/outbox", None, 404, "no control endpoint PATCH /_sandbox/outbox"),
    ],
)
def test_bad_control_requests_say_what_is_wrong(method, path, body, status, text):
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body or ""}
    response = control(Sandbox("ok"), method, path, **kwargs)
    assert response.status_code == status and text in response.json["error"]


def test_control_api_refuses_callers_not_on_loopback():
    box = Sandbox("ok")
    response = control(box, "DELETE", "/_sandbox/outbox", remote="192.0.2.7")
    assert response.status_code == 403 and "loopback callers only" in response.json["error"]


def test_certificates_survive_a_reset():
    box = Sandbox("ok")
    _, pem = new_client_certificate()
    assert control(box, "POST", "/_sandbox/certificates", data=pem).status_code == 201
    box.reset("wrong-secret")
    assert len(box.tenant.app.certificates) == 1


def test_control_api_is_not_on_microsoft_hosts_in_process():
    from sandbox_helpers import mounted_session

    response = mounted_session(Sandbox("ok")).get("https://login.microsoftonline.com/_sandbox/outbox")
    assert response.status_code == 404


@loopback
def test_serve_shell_env_starts_in_the_background_and_exports_what_clients_read(tmp_path):
    certificate = tmp_path / "client.pem"
    done = subprocess.run(
        [O365CHECK, "sandbox", "serve", "--tls", "--new-certificate", str(certificate), "--shell-env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines() if line.startswith("export ")
    )
    pid = int(exported["O365CHECK_SANDBOX_PID"])
    try:
        for name in ("O365CHECK_SANDBOX_URL", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"):
            assert exported[name], name
        assert exported["AZURE_CLIENT_CERTIFICATE_PATH"] == str(certificate)
        assert (certificate.stat().st_mode & 0o777) == 0o600
        assert "-----BEGIN PRIVATE KEY-----" in certificate.read_text()
        session = requests.Session()
        session.trust_env = False
        session.verify = exported["O365CHECK_SANDBOX_CA"]
        state = session.get(exported["O365CHECK_SANDBOX_URL"] + "/_sandbox", timeout=10).json()
        assert state["scenario"] == "ok" and state["credentials"]["tenant_id"] == exported["AZURE_TENANT_ID"]
    finally:
        os.kill(pid, signal.SIGTERM)


def test_serve_refuses_an_unreadable_certificate(tmp_path):
    bogus = tmp_path / "cert.pem"
    bogus.write_text("hello")
    done = subprocess.run(
        [O365CHECK, "sandbox", "serve", "--certificate", str(bogus), "--shell-env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{bogus} holds no usable PEM certificate" in done.stderr and "Traceback" not in done.stderr


def test_plugin_works_in_a_fresh_project(pytester):
    """The entry point loads the plugin in any pytest run; its fixtures work without our conftest."""
    pytester.makepyfile(
        test_app="""
        import msal, pytest

        @pytest.mark.o365_sandbox_scenarios("ok", "wrong-secret")
        def test_token(o365_sandbox, o365_outbox):
            c = o365_sandbox.credentials
            result = msal.ConfidentialClientApplication(
                c["client_id"], client_credential=c["client_secret"],
                authority="https://login.microsoftonline.com/" + c["tenant_id"],
            ).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
            assert ("access_token" in result) == (o365_sandbox.scenario.error_code is None)
            o365_outbox.assert_nothing_sent()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
