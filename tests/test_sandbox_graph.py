"""Graph sendMail: token checks, request validation, mailbox rules, error shape (reference §4)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sandbox_helpers import GRAPH, fetch_token, mounted_session, send_mail, test_message

from o365check.sandbox import Sandbox
from o365check.sandbox.tokens import mint_access_token


@pytest.fixture
def box():
    return Sandbox("ok")


@pytest.fixture
def session(box):
    return mounted_session(box)


@pytest.fixture
def token(box, session):
    return fetch_token(session, box)


def error_of(response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_error_body_and_headers(box, session, token):
    client_request_id = str(uuid.uuid4())
    response = send_mail(
        session, box, token, sender="nobody@contoso.example", headers={"client-request-id": client_request_id}
    )
    error = response.json()["error"]
    assert list(error) == ["code", "message", "innerError"]
    assert error["innerError"]["client-request-id"] == client_request_id
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert response.headers["client-request-id"] == client_request_id
    assert json.loads(response.headers["x-ms-ags-diagnostic"])["ServerInfo"]
    assert response.headers["Content-Type"] == "application/json" and "Date" in response.headers
    assert error_of(response) == (404, "ErrorInvalidUser", "The requested user 'nobody@contoso.example' is invalid.")


def test_missing_bearer_token(box, session):
    response = session.post(
        f"{GRAPH}/v1.0/users/{box.credentials['sender']}/sendMail", json=test_message(box.credentials["recipient"])
    )
    assert error_of(response) == (401, "InvalidAuthenticationToken", "Access token is empty.")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="", authorization_uri=')


@pytest.mark.parametrize(
    "bad,message",
    [
        ("not-a-jwt", "CompactToken parsing failed with error code: 80049217"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln", "CompactToken validation failed with reason code: 80049228."),
    ],
)
def test_garbage_tokens(box, session, bad, message):
    assert error_of(send_mail(session, box, bad)) == (401, "InvalidAuthenticationToken", message)


def test_token_for_another_audience(box, session):
    other = mint_access_token(box.tenant, box.tenant.app, "https://outlook.office.com", now=time.time())
    assert error_of(send_mail(session, box, other))[2] == "Access token validation failure. Invalid audience."


def test_token_of_another_cloud_is_the_wrong_audience(box, session, token):
    response = send_mail(session, box, token, base="https://graph.microsoft.us")
    assert error_of(response)[2] == "Access token validation failure. Invalid audience."


def test_expired_token(box, session):
    old = mint_access_token(box.tenant, box.tenant.app, "https://graph.microsoft.com", now=time.time() - 7200)
    assert error_of(send_mail(session, box, old)) == (
        401,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
    )


def test_me_is_delegated_only(box, session, token):
    response = session.post(
        f"{GRAPH}/v1.0/me/sendMail",
        headers={"Authorization": f"Bearer {token}"},
        json=test_message(box.credentials["recipient"]),
    )
    assert error_of(response) == (400, "BadRequest", "/me request is only valid with delegated authentication flow.")


def test_content_type_must_be_json(box, session, token):
    response = session.post(
        f"{GRAPH}/v1.0/users/{box.credentials['sender']}/sendMail",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/html"},
        data=json.dumps(test_message(box.credentials["recipient"])),
    )
    assert error_of(response)[:2] == (415, "RequestBodyRead")


def test_request_over_four_megabytes(box, session, token):
    payload = test_message(box.credentials["recipient"])
    payload["message"]["body"]["content"] = "x" * (4 * 1024 * 1024 + 1)
    assert error_of(send_mail(session, box, token, payload))[:2] == (413, "RequestEntityTooLarge")


def test_message_wrapper_is_required(box, session, token):
    flat = test_message(box.credentials["recipient"])["message"]
    status, code, message = error_of(send_mail(session, box, token, flat))
    assert (status, code) == (400, "RequestBodyRead") and "The property 'subject' does not exist" in message


def test_invalid_json(box, session, token):
    response = session.post(
        f"{GRAPH}/v1.0/users/{box.credentials['sender']}/sendMail",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        data="{not json",
    )
    assert error_of(response)[:2] == (400, "BadRequest")


@pytest.mark.parametrize(
    "recipients,expected",
    [
        (
            [{"emailAddress": {"address": "a@x.example; b@y.example"}}],
            "At least one recipient isn't valid., Recipient \"a@x.example; b@y.example\" isn't resolved. "
            "All recipients must be resolved before a message can be submitted.",
        ),
        ([], "At least one recipient is not valid., A message can't be sent because it contains no recipients."),
    ],
)
def test_invalid_recipients(box, session, token, recipients, expected):
    payload = test_message(box.credentials["recipient"])
    payload["message"]["toRecipients"] = recipients
    assert error_of(send_mail(session, box, token, payload)) == (400, "ErrorInvalidRecipients", expected)
    assert box.outbox == []


def test_sender_by_object_id_and_outbox_entry(box, session, token):
    sender = box.tenant.mailbox(box.credentials["sender"])
    payload = test_message(box.credentials["recipient"], subject="Hello")
    payload["message"]["ccRecipients"] = [{"emailAddress": {"address": "cc@fabrikam.example"}}]
    response = send_mail(session, box, token, payload, sender=sender.object_id)
    assert response.status_code == 202 and response.content == b""
    [entry] = box.outbox
    assert entry["sender"] == sender.address and entry["subject"] == "Hello"
    assert entry["to"] == [box.credentials["recipient"]] and entry["cc"] == ["cc@fabrikam.example"]
    assert entry["body"] == payload["message"]["body"]["content"] and entry["received_at"]
    assert entry["save_to_sent_items"] is False


def test_from_another_mailbox_needs_send_as(box, session, token):
    payload = test_message(box.credentials["recipient"])
    payload["message"]["from"] = {"emailAddress": {"address": box.credentials["recipient"]}}
    assert error_of(send_mail(session, box, token, payload))[:2] == (403, "ErrorSendAsDenied")


def test_mailbox_changes_are_seen_by_the_next_request(box, session, token):
    sender = box.tenant.mailbox(box.credentials["sender"])
    sender.licensed = False
    assert error_of(send_mail(session, box, token))[1] == "MailboxNotEnabledForRESTAPI"
    sender.shared = True
    assert send_mail(session, box, token).status_code == 202
    sender.exists = False
    assert error_of(send_mail(session, box, token))[1] == "ErrorInvalidUser"


def test_unknown_graph_path(box, session, token):
    response = session.get(f"{GRAPH}/v1.0/organization", headers={"Authorization": f"Bearer {token}"})
    assert error_of(response)[:2] == (400, "BadRequest")


def test_base64_mime_message_is_accepted(box, session, token):
    import base64
    from email.message import EmailMessage

    mime = EmailMessage()
    mime["To"] = "Adele <adele.vance@contoso.example>"
    mime["Subject"] = "MIME hello"
    mime.set_content("Plain body")
    response = session.post(
        f"{GRAPH}/v1.0/users/{box.credentials['sender']}/sendMail",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
        data=base64.b64encode(mime.as_bytes()),
    )
    assert response.status_code == 202, response.text
    assert box.outbox[0]["to"] == ["adele.vance@contoso.example"] and box.outbox[0]["subject"] == "MIME hello"
    bad = session.post(
        f"{GRAPH}/v1.0/users/{box.credentials['sender']}/sendMail",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
        data="not base64!",
    )
    assert error_of(bad) == (400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
