"""sendMail bodies as the service takes them: both parameter spellings, annotations, enum casing,
and the service's order (authentication, then mailbox rules, then the body) - reference §4.1."""

from __future__ import annotations

import json
import pathlib

import pytest
from sandbox_helpers import fetch_token, mounted_session, send_mail

from o365check.sandbox import Sandbox

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "sdk"


def sdk_body(recipient: str) -> dict:
    """What msgraph-sdk 1.x serializes (captured in tests/fixtures/sdk by tools/capture_sdk_requests.py)."""
    return {
        "Message": {
            "@odata.type": "#microsoft.graph.message",
            "body": {"content": "x", "contentType": "text"},
            "subject": "Hi",
            "toRecipients": [{"emailAddress": {"address": recipient}}],
        },
        "SaveToSentItems": False,
    }


def test_metadata_parameter_names_are_accepted():
    box = Sandbox("ok")
    session = mounted_session(box)
    response = send_mail(session, box, fetch_token(session, box), sdk_body(box.credentials["recipient"]))
    assert response.status_code == 202, response.text
    [sent] = box.outbox
    assert sent["subject"] == "Hi" and sent["to"] == [box.credentials["recipient"]]
    assert sent["content_type"] == "Text" and sent["save_to_sent_items"] is False


def test_docs_names_and_the_string_boolean_of_the_docs_example():
    box = Sandbox("ok")
    session = mounted_session(box)
    payload = {
        "message": {
            "subject": "Docs",
            "body": {"contentType": "HTML", "content": "<b>x</b>"},
            "toRecipients": [{"@odata.type": "#microsoft.graph.recipient", "emailAddress": {"address": "a@b.example"}}],
        },
        "saveToSentItems": "false",
        "Message@odata.type": "#microsoft.graph.message",
    }
    assert send_mail(session, box, fetch_token(session, box), payload).status_code == 202
    assert box.outbox[0]["content_type"] == "HTML" and box.outbox[0]["save_to_sent_items"] is False


@pytest.mark.parametrize("name", ["MESSAGE", "Subject", "messages"])
def test_other_property_names_are_refused(name):
    box = Sandbox("ok")
    session = mounted_session(box)
    response = send_mail(session, box, fetch_token(session, box), {name: {}})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "RequestBodyRead"
    assert (
        f"The property '{name}' does not exist on type 'microsoft.graph.sendMail'"
        in response.json()["error"]["message"]
    )
    assert box.outbox == []


@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [
        ("mailbox-unlicensed", 404, "MailboxNotEnabledForRESTAPI"),
        ("access-policy-denied", 403, "ErrorAccessDenied"),
        ("wrong-permission", 403, "ErrorAccessDenied"),
        ("throttled", 429, "ApplicationThrottled"),
        ("sender-not-found", 404, "ErrorInvalidUser"),
        ("no-admin-consent", 401, "NoPermissionsInAccessToken"),
    ],
)
@pytest.mark.parametrize("body", [b"{not json", b'{"Subject": "fields without the wrapper"}'])
def test_mailbox_rules_come_before_the_body(scenario, status, code, body):
    box = Sandbox(scenario)
    session = mounted_session(box)
    response = session.post(
        f"https://graph.microsoft.com/v1.0/users/{box.credentials['sender']}/sendMail",
        headers={"Authorization": f"Bearer {fetch_token(session, box)}", "Content-Type": "application/json"},
        data=body,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_authentication_comes_before_the_mailbox_rules():
    box = Sandbox("mailbox-unlicensed")
    session = mounted_session(box)
    response = send_mail(session, box, "not-a-token")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_captured_sdk_requests_are_accepted(path):
    """Every body and header set a real SDK sent (captured against the sandbox) is accepted again."""
    captured = json.loads(path.read_text())
    box = Sandbox("ok")
    session = mounted_session(box)
    token = fetch_token(session, box)
    for exchange in captured["requests"]:
        if not exchange["path"].lower().endswith("/sendmail"):
            continue
        headers = {k: v for k, v in exchange["headers"].items() if k.lower() not in ("host", "content-length")}
        headers["Authorization"] = f"Bearer {token}"
        response = session.post(
            f"https://graph.microsoft.com{exchange['path']}", headers=headers, data=exchange["body"]
        )
        assert response.status_code == 202, (path.name, response.text)
    assert box.outbox, f"{path.name} holds no sendMail request"
