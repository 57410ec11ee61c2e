"""The loopback server's wire format: Microsoft's status lines and headers, keep-alive, one Date,
no Server banner (issue 11 item 2; reference §1.2, §4.2)."""

from __future__ import annotations

import http.client
import json
import ssl
import uuid

import pytest
from sandbox_helpers import token_form

from o365check.sandbox import Sandbox

loopback = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])


def request(connection: http.client.HTTPConnection, method: str, path: str, body=None, headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


@loopback
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_status_lines_dates_banner_and_keep_alive(tls):
    box = Sandbox("secret-id-not-value")
    with box.serve(tls=tls) as server:
        if tls:
            context = ssl.create_default_context(cafile=server.ca_path)
            connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=10)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        tid = box.credentials["tenant_id"]
        form = "&".join(f"{k}={v}" for k, v in token_form(box).items())
        seen = []
        for method, path, body, headers in [
            ("GET", f"/{tid}/v2.0/.well-known/openid-configuration", None, {}),
            ("POST", f"/{tid}/oauth2/v2.0/token", form, {"Content-Type": "application/x-www-form-urlencoded"}),
            ("POST", "/v1.0/users/someone@contoso.example/sendMail", "{}", {"Authorization": "Bearer x"}),
            ("GET", "/nothing-here", None, {}),
        ]:
            response, _ = request(connection, method, path, body, headers)
            seen.append((response.status, response.reason))
            assert len(response.msg.get_all("Date")) == 1, response.msg.get_all("Date")
            assert response.msg.get_all("Server") is None
            assert response.version == 11 and not response.will_close  # the same connection serves the next
        sock = connection.sock
        request(connection, "GET", "/_sandbox/scenario")
        assert connection.sock is sock  # keep-alive: no reconnect
        connection.close()
    assert seen == [(200, "OK"), (401, "Unauthorized"), (401, "Unauthorized"), (404, "Not Found")]


@loopback
def test_identity_and_graph_headers():
    box = Sandbox("ok")
    with box.serve() as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        tid = box.credentials["tenant_id"]
        form = "&".join(f"{k}={v}" for k, v in token_form(box).items())
        response, body = request(
            connection,
            "POST",
            f"/{tid}/oauth2/v2.0/token",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (response.status, response.reason) == (200, "OK")
        assert response.getheader("Cache-Control") == "no-store, no-cache"
        assert response.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
        assert uuid.UUID(response.getheader("x-ms-request-id"))
        token = json.loads(body)["access_token"]
        client_request_id = str(uuid.uuid4())
        message = {
            "Message": {
                "subject": "wire",
                "toRecipients": [{"emailAddress": {"address": box.credentials["recipient"]}}],
            }
        }
        response, body = request(
            connection,
            "POST",
            f"/v1.0/users/{box.credentials['sender']}/sendMail",
            json.dumps(message),
            {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "client-request-id": client_request_id,
            },
        )
        assert (response.status, response.reason, body) == (202, "Accepted", b"")
        assert response.getheader("client-request-id") == client_request_id
        assert uuid.UUID(response.getheader("request-id"))
        assert json.loads(response.getheader("x-ms-ags-diagnostic"))["ServerInfo"]["DataCenter"]
        assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
        connection.close()
    assert len(box.outbox) == 1


def test_in_process_answers_carry_the_same_reason_phrases():
    from sandbox_helpers import mounted_session, post_token

    box = Sandbox("wrong-secret")
    response = post_token(mounted_session(box), box)
    assert (response.status_code, response.reason) == (401, "Unauthorized")
    assert response.headers["Date"].endswith(" GMT") and "Server" not in response.headers
