"""Every scenario fails at the documented place with the documented code (plain requests)."""

from __future__ import annotations

import jwt
import pytest
from sandbox_helpers import LOGIN, fetch_token, mounted_session, post_token, send_mail

from o365check.sandbox import SCENARIOS as ALL_SCENARIOS
from o365check.sandbox import Sandbox

# The smtp-* scenarios are about SMTP AUTH, not Graph sendMail: tests/test_smtp_*.py pins them.
SCENARIOS = {n: s for n, s in ALL_SCENARIOS.items() if s.via == "graph"}


STEPS = ("settings", "discovery", "token", "claims", "send")


def test_scenarios_are_ordered_and_complete():
    assert list(SCENARIOS) == [
        "ok",
        "tenant-not-found",
        "app-not-found",
        "secret-id-not-value",
        "wrong-secret",
        "secret-expired",
        "app-disabled",
        "conditional-access-blocked",
        "no-admin-consent",
        "wrong-permission",
        "sender-not-found",
        "mailbox-unlicensed",
        "shared-mailbox",
        "access-policy-denied",
        "throttled",
    ]
    assert list(ALL_SCENARIOS)[: len(SCENARIOS)] == list(SCENARIOS)  # the smtp-* ones follow, listed after
    for scenario in SCENARIOS.values():
        assert scenario.failing_step in (None, *STEPS)
        assert "\n" not in scenario.summary and scenario.summary
        assert (scenario.failing_step is None) == (scenario.error_code is None) == (scenario.http_status is None)


def test_unknown_scenario_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown sandbox scenario 'okay'.*tenant-not-found"):
        Sandbox("okay")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_fails_where_documented(name):
    box = Sandbox(name)
    scenario = box.scenario
    session = mounted_session(box)
    tenant = box.credentials["tenant_id"]

    discovery = session.get(f"{LOGIN}/{tenant}/v2.0/.well-known/openid-configuration")
    if scenario.error_endpoint == "discovery":
        assert discovery.status_code == scenario.http_status
        assert discovery.json()["error"] == scenario.oauth_error
        assert discovery.json()["error_codes"] == [int(scenario.error_code.removeprefix("AADSTS"))]
        return
    assert discovery.status_code == 200

    token_response = post_token(session, box)
    if scenario.error_endpoint == "token":
        body = token_response.json()
        assert token_response.status_code == scenario.http_status
        assert body["error"] == scenario.oauth_error
        assert body["error_description"].startswith(f"{scenario.error_code}: ")
        assert body["error_codes"] == [int(scenario.error_code.removeprefix("AADSTS"))]
        return
    assert token_response.status_code == 200, token_response.text
    token = token_response.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    has_mail_send = "Mail.Send" in claims.get("roles", [])
    assert has_mail_send == (scenario.failing_step != "claims")

    sent = send_mail(session, box, token)
    if scenario.failing_step is None:
        assert sent.status_code == 202 and sent.content == b""
        assert [m["sender"] for m in box.outbox] == [box.credentials["sender"]]
        return
    assert sent.status_code == scenario.http_status
    assert sent.json()["error"]["code"] == scenario.error_code
    assert box.outbox == []


def test_throttled_scenario_asks_for_a_long_wait():
    box = Sandbox("throttled")
    session = mounted_session(box)
    sent = send_mail(session, box, fetch_token(session, box))
    assert sent.json()["error"]["message"] == "Application is over its MailboxConcurrency limit."
    assert int(sent.headers["Retry-After"]) >= 30


def test_access_policy_denial_carries_the_raop_text():
    box = Sandbox("access-policy-denied")
    session = mounted_session(box)
    sent = send_mail(session, box, fetch_token(session, box))
    assert sent.json()["error"]["message"] == (
        "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."
    )
    box.tenant.mailbox(box.credentials["sender"]).in_access_policy_scope = True
    assert send_mail(session, box, fetch_token(session, box)).status_code == 202


def test_secret_id_scenario_types_the_secret_id():
    box = Sandbox("secret-id-not-value")
    assert box.credentials["client_secret"] == box.tenant.app.secrets[0].secret_id
    assert box.tenant.app.secrets[0].value not in repr(box.tenant)
    assert box.tenant.app.secrets[0].value not in repr(box)


def test_consent_granted_later_needs_a_new_token():
    box = Sandbox("no-admin-consent")
    session = mounted_session(box)
    old_token = fetch_token(session, box)
    assert "roles" not in jwt.decode(old_token, options={"verify_signature": False})
    box.tenant.app.grant_admin_consent()
    assert send_mail(session, box, old_token).json()["error"]["code"] == "NoPermissionsInAccessToken"
    assert send_mail(session, box, fetch_token(session, box)).status_code == 202


def test_wrong_permission_token_has_other_roles_only():
    box = Sandbox("wrong-permission")
    session = mounted_session(box)
    claims = jwt.decode(fetch_token(session, box), options={"verify_signature": False})
    assert claims["roles"] == ["User.Read.All"]
    sent = send_mail(session, box, fetch_token(session, box))
    assert sent.json()["error"]["message"] == "Access is denied. Check credentials and try again."


def test_each_box_has_its_own_model():
    first, second = Sandbox("ok"), Sandbox("ok")
    first.tenant.app.enabled = False
    assert second.tenant.app.enabled is True
