"""Real SMTP clients against the sandbox: Python's smtplib and nodemailer, with AUTH XOAUTH2.

Neither goes through o365check's own SMTP code: each gets a token from the sandbox's token
endpoint with plain HTTP, connects, negotiates STARTTLS against the sandbox's CA and
authenticates as it would against smtp.office365.com. The success case runs against a real
``o365check sandbox serve`` process; the failing scenarios against the same servers in-process.
nodemailer comes from the npm registry (.ci/run installs it into .ci/node_modules); it may be
missing locally, but must run when CI=true.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from o365check.sandbox import SCENARIOS, Sandbox

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

ROOT = Path(__file__).resolve().parents[1]
NODE_SCRIPT = Path(__file__).with_name("smtp_clients") / "nodemailer_send.js"
SMTP_SCENARIOS = [n for n, s in SCENARIOS.items() if s.via == "smtp"]
EXCHANGE_SCOPE = "https://outlook.office365.com/.default"


def _node_path() -> str:
    """Where nodemailer is: .ci/node_modules (CI), or $NODE_PATH for a local run."""
    return os.pathsep.join(p for p in (str(ROOT / ".ci" / "node_modules"), os.environ.get("NODE_PATH", "")) if p)


def _nodemailer_available() -> bool:
    if shutil.which("node") is None:
        return False
    found = subprocess.run(
        ["node", "-e", "require.resolve('nodemailer')"],
        env={**os.environ, "NODE_PATH": _node_path()},
        capture_output=True,
    )
    return found.returncode == 0


needs_nodemailer = pytest.mark.skipif(
    not _nodemailer_available() and os.environ.get("CI") != "true",
    reason="nodemailer not installed (npm install --prefix .ci nodemailer, as .ci/run does)",
)


def get_token(base_url: str, credentials: dict[str, str], scope: str) -> str:
    response = requests.post(
        f"{base_url}/{credentials['tenant_id']}/oauth2/v2.0/token",
        data={
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
            "scope": scope,
            "grant_type": "client_credentials",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def smtplib_send(host: str, port: int, ca: str, user: str, token: str, sender: str, to: str, starttls: bool):
    """Python's smtplib as an app uses it: (code, text) of the first refusal, or (250, reply) when sent."""
    blob = f"user={user}\x01auth=Bearer {token}\x01\x01"
    with smtplib.SMTP(host, port, local_hostname="o365check.localhost", timeout=10) as client:
        client.ehlo()
        if starttls:
            client.starttls(context=ssl.create_default_context(cafile=ca))
            client.ehlo()
        try:
            # smtplib answers the 334 challenge by calling the auth object again: an empty response (§8.2).
            client.auth("XOAUTH2", lambda challenge=None: blob if challenge is None else "", initial_response_ok=True)
            refused = client.sendmail(sender, [to], f"From: {sender}\r\nTo: {to}\r\nSubject: smtplib\r\n\r\nhello\r\n")
        except smtplib.SMTPResponseException as exc:
            return exc.smtp_code, exc.smtp_error.decode()
        assert refused == {}
        return 250, "sent"


def nodemailer_send(host: str, port: int, ca: str, user: str, token: str, sender: str, to: str, starttls: bool):
    config = {
        "host": host,
        "port": port,
        "ca": ca,
        "servername": "smtp.office365.com",
        "user": user,
        "token": token,
        "from": sender,
        "to": to,
        "starttls": starttls,
    }
    done = subprocess.run(
        ["node", str(NODE_SCRIPT), json.dumps(config)],
        env={**os.environ, "NODE_PATH": _node_path()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout + done.stderr
    result = json.loads(done.stdout)
    return (250, result["response"]) if result["ok"] else (result["code"], result["response"])


@pytest.fixture
def served_smtp_ok(tmp_path):
    """`o365check sandbox serve --scenario smtp-ok` as a separate process, and what it printed."""
    env_file = tmp_path / "sandbox.postman_environment.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "o365check.cli",
            "sandbox",
            "serve",
            "--scenario",
            "smtp-ok",
            "--environment-out",
            str(env_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Outbox:"):
                break
        printed = "".join(lines)
        base_url = re.search(r"serving at (http://127\.0\.0\.1:\d+)", printed).group(1)
        smtp = re.search(r"SMTP \(STARTTLS, AUTH XOAUTH2\) at 127\.0\.0\.1:(\d+); its CA certificate: (\S+)", printed)
        values = {v["key"]: v["value"] for v in json.loads(env_file.read_text())["values"]}
        yield {"base_url": base_url, "port": int(smtp.group(1)), "ca": smtp.group(2), "values": values}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sandbox_serve_prints_the_smtp_address_and_writes_it_to_the_environment(served_smtp_ok):
    values = served_smtp_ok["values"]
    assert values["smtp_host"] == "127.0.0.1" and values["smtp_port"] == str(served_smtp_ok["port"])


@pytest.mark.parametrize("client", ["smtplib", pytest.param("nodemailer", marks=needs_nodemailer)])
def test_real_client_authenticates_with_xoauth2_against_sandbox_serve_and_sends(served_smtp_ok, client):
    values = served_smtp_ok["values"]
    token = get_token(served_smtp_ok["base_url"], values, EXCHANGE_SCOPE)
    send = smtplib_send if client == "smtplib" else nodemailer_send
    code, text = send(
        "127.0.0.1",
        served_smtp_ok["port"],
        served_smtp_ok["ca"],
        values["sender"],
        token,
        values["sender"],
        values["recipient"],
        True,
    )
    assert code == 250, text
    outbox = requests.get(served_smtp_ok["base_url"] + "/_sandbox/outbox", timeout=10).json()
    assert [(m["via"], m["sender"], m["to"]) for m in outbox] == [("smtp", values["sender"], [values["recipient"]])]


@pytest.mark.parametrize("client", ["smtplib", pytest.param("nodemailer", marks=needs_nodemailer)])
@pytest.mark.parametrize("name", [n for n in SMTP_SCENARIOS if SCENARIOS[n].error_code])
def test_real_client_gets_the_documented_reply(name, client):
    box = Sandbox(name)
    server = box.serve()
    smtp = box.smtp_server()
    try:
        typed = box.smtp_client
        credentials = box.credentials
        token = get_token(server.base_url, credentials, typed.get("scope", EXCHANGE_SCOPE))
        send = smtplib_send if client == "smtplib" else nodemailer_send
        user = typed.get("user", credentials["sender"])
        code, text = send(
            smtp.host,
            smtp.port,
            smtp.ca_path,
            user,
            token,
            credentials["sender"],
            credentials["sender"],
            typed.get("starttls") != "no",
        )
    finally:
        box.stop_smtp()
        server.stop()
    scenario = box.scenario
    assert code == scenario.smtp_reply, text
    assert scenario.error_code in text
    assert box.outbox == []


def test_xoauth2_without_initial_response_is_challenged_for_it():
    box = Sandbox("smtp-ok")
    smtp = box.smtp_server()
    try:
        server = box.serve()
        token = get_token(server.base_url, box.credentials, EXCHANGE_SCOPE)
        server.stop()
        blob = base64.b64encode(f"user={box.credentials['sender']}\x01auth=Bearer {token}\x01\x01".encode()).decode()
        with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
            client.starttls(context=ssl.create_default_context(cafile=smtp.ca_path))
            client.ehlo()
            assert client.docmd("AUTH", "XOAUTH2") == (334, b"")
            assert client.docmd(blob) == (235, b"2.7.0 Authentication successful")
    finally:
        box.stop_smtp()
