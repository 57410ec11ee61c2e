"""sendMail: Graph error JSON becomes the right GraphError subclass, with the ids support needs."""

import pytest
import requests

from o365check.auth import acquire_app_token
from o365check.errors import (
    GraphAccessDeniedError,
    GraphAuthenticationError,
    GraphBadRequestError,
    GraphNotFoundError,
    GraphServerError,
    GraphThrottledError,
)
from o365check.graph import _graph_error, send_mail, send_mail_url
from o365check.http import build_session
from o365check.mail import build_test_message
from o365check.sandbox import Sandbox
from o365check.settings import Secret, Settings


def send(name, payload=None, **changes):
    box = Sandbox(name)
    settings = Settings._build(dict(box.credentials, **changes), {})
    session = build_session(sandbox=box)
    token = acquire_app_token(settings, session).access_token
    return send_mail(
        session,
        settings,
        token,
        payload or build_test_message(settings.sender, settings.effective_recipient),
        max_wait=0,
    )


@pytest.mark.parametrize(
    ("scenario", "error_type", "code"),
    [
        ("no-admin-consent", GraphAuthenticationError, "NoPermissionsInAccessToken"),
        ("wrong-permission", GraphAccessDeniedError, "ErrorAccessDenied"),
        ("access-policy-denied", GraphAccessDeniedError, "ErrorAccessDenied"),
        ("sender-not-found", GraphNotFoundError, "ErrorInvalidUser"),
        ("mailbox-unlicensed", GraphNotFoundError, "MailboxNotEnabledForRESTAPI"),
        ("throttled", GraphThrottledError, "ApplicationThrottled"),
    ],
)
def test_errors_map_to_subclasses_with_ids(scenario, error_type, code):
    with pytest.raises(error_type) as info:
        send(scenario)
    error = info.value
    assert error.code == code and error.request_id and error.client_request_id and error.date
    if scenario == "throttled":
        assert error.retry_after == 30


def test_invalid_recipients_are_a_bad_request():
    box_payload = build_test_message("notifications@contoso.example", "not-an-address")
    with pytest.raises(GraphBadRequestError) as info:
        send("ok", box_payload)
    assert info.value.code == "ErrorInvalidRecipients"


def test_invalid_token_is_an_authentication_error():
    box = Sandbox("ok")
    settings = Settings._build(dict(box.credentials), {})
    with pytest.raises(GraphAuthenticationError) as info:
        send_mail(
            build_session(sandbox=box),
            settings,
            Secret("garbage"),
            build_test_message(settings.sender, settings.sender),
        )
    assert info.value.code == "InvalidAuthenticationToken"


def test_non_json_error_bodies_still_give_a_graph_error():
    response = requests.Response()
    response.status_code, response.reason, response._content = 502, "Bad Gateway", b"<html>proxy error</html>"
    error = _graph_error(response, "https://graph.microsoft.com/v1.0/users/a@b.example/sendMail")
    assert isinstance(error, GraphServerError) and error.code == "Bad Gateway" and "proxy error" in error.message


def test_sender_is_url_quoted_but_keeps_the_at_sign():
    settings = Settings(sender="o'brien+news@contoso.example", cloud="china")
    assert (
        send_mail_url(settings)
        == "https://microsoftgraph.chinacloudapi.cn/v1.0/users/o%27brien%2Bnews@contoso.example/sendMail"
    )


def test_ok_sends_once():
    assert send("ok").status == 202
