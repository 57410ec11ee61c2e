"""Loopback server, Postman environment, import hygiene."""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sandbox_helpers import send_mail, token_form

import o365check.sandbox
from o365check.sandbox import Faults, Sandbox

loopback = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])


def plain_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


@loopback
def test_plain_http_server_serves_identity_and_graph_on_one_port():
    box = Sandbox("ok")
    with box.serve() as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.ca_path is None
        session = plain_session()
        tid = box.credentials["tenant_id"]
        doc = session.get(f"{server.base_url}/{tid}/v2.0/.well-known/openid-configuration").json()
        assert doc["token_endpoint"] == f"{server.base_url}/{tid}/oauth2/v2.0/token"
        token = session.post(doc["token_endpoint"], data=token_form(box)).json()["access_token"]
        assert send_mail(session, box, token, base=server.base_url).status_code == 202
        assert len(session.get(f"{server.base_url}/_sandbox/outbox").json()) == 1


@loopback
def test_forwarded_host_over_the_server():
    box = Sandbox("ok")
    with box.serve() as server:
        doc = (
            plain_session()
            .get(
                f"{server.base_url}/{box.credentials['tenant_id']}/v2.0/.well-known/openid-configuration",
                headers={"X-Forwarded-Host": "login.microsoftonline.com", "X-Forwarded-Proto": "https"},
            )
            .json()
        )
    assert doc["token_endpoint"].startswith("https://login.microsoftonline.com/")


@loopback
def test_concurrent_clients_all_get_through():
    box = Sandbox("ok")
    with box.serve() as server:

        def one_round(index: int) -> int:
            session = plain_session()
            token = session.post(
                f"{server.base_url}/{box.credentials['tenant_id']}/oauth2/v2.0/token", data=token_form(box)
            ).json()["access_token"]
            payload = {
                "message": {
                    "subject": f"#{index}",
                    "toRecipients": [{"emailAddress": {"address": box.credentials["recipient"]}}],
                }
            }
            return send_mail(session, box, token, payload, base=server.base_url).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(one_round, range(16)))
    assert statuses == [202] * 16
    assert sorted(m["subject"] for m in box.outbox) == sorted(f"#{i}" for i in range(16))


@loopback
def test_ambiguous_reset_over_the_server():
    box = Sandbox("ok", faults=Faults(ambiguous_send="reset", seed=1))
    with box.serve() as server:
        session = plain_session()
        token = session.post(
            f"{server.base_url}/{box.credentials['tenant_id']}/oauth2/v2.0/token", data=token_form(box)
        ).json()["access_token"]
        with pytest.raises(requests.ConnectionError):
            send_mail(session, box, token, base=server.base_url, timeout=5)
    assert len(box.outbox) == 1


@loopback
def test_ambiguous_timeout_over_the_server():
    box = Sandbox("ok", faults=Faults(ambiguous_send="timeout", ambiguous_delay=1.0, seed=1))
    with box.serve() as server:
        session = plain_session()
        token = session.post(
            f"{server.base_url}/{box.credentials['tenant_id']}/oauth2/v2.0/token", data=token_form(box)
        ).json()["access_token"]
        with pytest.raises(requests.ReadTimeout):
            send_mail(session, box, token, base=server.base_url, timeout=0.3)
    assert len(box.outbox) == 1


@loopback
def test_tls_server_certificate_covers_microsoft_hosts(tmp_path):
    box = Sandbox("ok")
    with box.serve(tls=True) as server:
        ca_path = server.ca_path
        assert pathlib.Path(ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")
        session = plain_session()
        session.verify = ca_path
        # Reach the server under a Microsoft name: the certificate must match it.
        from requests.adapters import HTTPAdapter

        class PinnedAdapter(HTTPAdapter):
            def send(self, request, **kwargs):
                request.url = request.url.replace("https://graph.microsoft.com", server.base_url)
                return super().send(request, **kwargs)

            def init_poolmanager(self, *args, **kwargs):
                kwargs["assert_hostname"] = "graph.microsoft.com"
                super().init_poolmanager(*args, **kwargs)

        session.mount("https://graph.microsoft.com/", PinnedAdapter())
        token = session.post(
            f"{server.base_url}/{box.credentials['tenant_id']}/oauth2/v2.0/token", data=token_form(box)
        ).json()["access_token"]
        assert send_mail(session, box, token).status_code == 202
    assert not pathlib.Path(ca_path).exists()  # removed on stop


def test_postman_environment_for_a_loopback_server(tmp_path):
    box = Sandbox("secret-id-not-value")
    path = box.write_postman_environment(tmp_path / "sandbox.postman_environment.json", "https://127.0.0.1:8443")
    document = json.loads(path.read_text())
    assert document["_postman_variable_scope"] == "environment"
    values = {v["key"]: v for v in document["values"]}
    assert list(values) == [
        "login_base",
        "graph_base",
        "tenant_id",
        "client_id",
        "client_secret",
        "sender",
        "recipient",
    ]
    assert values["login_base"]["value"] == values["graph_base"]["value"] == "https://127.0.0.1:8443"
    assert values["client_secret"] == {
        "key": "client_secret",
        "value": box.credentials["client_secret"],
        "type": "secret",
        "enabled": True,
    }
    assert all(v["enabled"] and v["type"] == "default" for k, v in values.items() if k != "client_secret")


def test_postman_environment_defaults_to_the_real_hosts(tmp_path):
    box = Sandbox("ok")
    document = json.loads(box.write_postman_environment(tmp_path / "env.json").read_text())
    values = {v["key"]: v["value"] for v in document["values"]}
    assert values["login_base"] == "https://login.microsoftonline.com"
    assert values["graph_base"] == "https://graph.microsoft.com"


def test_sandbox_imports_nothing_from_the_client_side():
    package = pathlib.Path(o365check.sandbox.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not (name.startswith("o365check") and not name.startswith("o365check.sandbox")), (
                    f"{source.name} imports {name}"
                )


def test_import_makes_no_keys_and_loads_no_crypto():
    # Measured after `import o365check`, so only what the sandbox itself loads counts.
    code = (
        "import sys, o365check; before = set(sys.modules); import o365check.sandbox as s; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] in ('cryptography', 'jwt', 'trustme', 'msal'))); "
        "print(s.tokens._key)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["[]", "None"]
