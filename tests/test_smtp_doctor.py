"""doctor --via smtp against every smtp-* scenario: the right step fails, with its enhanced status code and diagnosis."""

from __future__ import annotations

import json
import smtplib

import pytest
from click.testing import CliRunner

from o365check.cli import main
from o365check.doctor import build_report
from o365check.sandbox import SCENARIOS
from o365check.settings import Settings
from o365check.smtp_doctor import open_smtp_channel, run_smtp_doctor
from o365check.targets import open_target

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])  # the sandbox's SMTP server is on loopback

SMTP_SCENARIOS = {n: s for n, s in SCENARIOS.items() if s.via == "smtp"}

# Pinned: per failing step, (error_code, diagnosis title).
AUTH_5_7_3 = ("5.7.3", "SMTP AUTH was refused: 535 5.7.3 Authentication unsuccessful")
EXPECTED = {
    "smtp-ok": {},
    "smtp-graph-token": {
        "smtp-claims": ("smtp-claims-graph-token", "This is a Graph token, not an Exchange Online token"),
        "smtp-auth": AUTH_5_7_3,
    },
    "smtp-no-role": {
        "smtp-claims": (
            "smtp-claims-roles-missing",
            "The token has no roles: SMTP.SendAsApp is missing or not consented",
        ),
        "smtp-auth": AUTH_5_7_3,
    },
    "smtp-sp-not-registered": {"smtp-auth": AUTH_5_7_3},
    "smtp-sp-wrong-object-id": {"smtp-auth": AUTH_5_7_3},
    "smtp-no-mailbox-permission": {"smtp-auth": AUTH_5_7_3},
    "smtp-auth-disabled-tenant": {
        "smtp-auth": ("5.7.139", "SMTP AUTH is disabled for the whole organisation: 535 5.7.139")
    },
    "smtp-auth-disabled-mailbox": {
        "smtp-auth": ("5.7.139", "SMTP AUTH was refused by policy: 535 5.7.139 (request did not meet the criteria)")
    },
    "smtp-sendas-denied": {
        "smtp-send": ("5.2.252", "The authenticated mailbox may not send as this sender: 554 5.2.252 SendAsDenied")
    },
    "smtp-rate-limited": {"smtp-send": ("5.7.0", "Too many messages: 554 5.7.0 submission rate exceeded")},
    "smtp-auth-before-starttls": {
        "smtp-auth": ("5.7.4", "AUTH was sent before STARTTLS: 504 5.7.4 Unrecognized authentication type")
    },
}


def run(name: str, via: str = "smtp"):
    target = open_target(Settings(sandbox=name))
    channel = open_smtp_channel(target)
    try:
        steps = list(
            run_smtp_doctor(
                target.settings, target.session, channel, via=via, sandbox=target.sandbox, sleep=lambda s: None
            )
        )
    finally:
        channel.close(target)
        target.close()
    return build_report(target.settings, steps, target.label), target.sandbox


def test_every_smtp_scenario_is_pinned():
    assert set(EXPECTED) == set(SMTP_SCENARIOS) and len(SMTP_SCENARIOS) >= 11


@pytest.mark.parametrize("name", list(SMTP_SCENARIOS))
def test_smtp_scenario_fails_at_the_right_step_with_its_code_and_diagnosis(name):
    scenario = SMTP_SCENARIOS[name]
    report, box = run(name)
    failed = {s.name: (s.error_code, s.diagnosis.title) for s in report.steps if s.status == "failed"}
    assert failed == EXPECTED[name]
    assert (report.failed_step.name if report.failed_step else None) == scenario.failing_step
    assert report.exit_code == (0 if scenario.failing_step is None else 1)
    if scenario.error_code:
        # the SMTP server's own reply carries the scenario's enhanced status code
        replies = [s for s in report.steps if s.error_code == scenario.error_code]
        assert replies and replies[0].name in ("smtp-auth", "smtp-send")
        assert box.outbox == []  # nothing accepted, nothing re-sent


def test_smtp_ok_passes_and_the_message_is_in_the_graph_outbox():
    report, box = run("smtp-ok")
    assert report.ok and [s.name for s in report.steps] == [
        "settings",
        "discovery",
        "smtp-token",
        "smtp-claims",
        "smtp-connect",
        "smtp-starttls",
        "smtp-auth",
        "smtp-mail-from",
        "smtp-send",
    ]
    assert len(box.outbox) == 1
    message = box.outbox[0]
    assert message["via"] == "smtp" and message["sender"] == "notifications@contoso.example"
    assert message["to"] == ["adele.vance@contoso.example"]
    assert "SMTP AUTH" in message["subject"]
    starttls = next(s for s in report.steps if s.name == "smtp-starttls")
    assert dict(starttls.details)["TLS version"] in ("TLSv1.2", "TLSv1.3")


def test_via_both_runs_graph_then_smtp_and_both_messages_arrive():
    report, box = run("smtp-ok", via="both")
    names = [s.name for s in report.steps]
    assert names[:5] == ["settings", "discovery", "token", "claims", "send"] and names[-1] == "smtp-send"
    assert report.ok and sorted(m.get("via", "graph") for m in box.outbox) == ["graph", "smtp"]


def test_cli_doctor_via_smtp_json_reports_the_enhanced_status_code():
    result = CliRunner().invoke(main, ["doctor", "--via", "smtp", "--sandbox", "smtp-sp-wrong-object-id", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    auth = next(s for s in report["steps"] if s["name"] == "smtp-auth")
    assert auth["status"] == "failed" and auth["error_code"] == "5.7.3"
    fixes = "\n".join(auth["diagnosis"]["fixes"])
    # The fix names the Enterprise application's object ID (the token's oid), not the App registration's.
    assert "New-ServicePrincipal -AppId '4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d' -ObjectId 'e7d6c5b4-" in fixes
    assert "ENTERPRISE APPLICATION" in fixes and "NOT the Object ID on the App registrations page" in fixes
    assert "Add-MailboxPermission -Identity 'notifications@contoso.example'" in fixes
    assert auth["diagnosis"]["details"]["334 challenge"].startswith('{"status":"401"')


def test_cli_doctor_via_smtp_text_passes_on_smtp_ok():
    result = CliRunner().invoke(main, ["doctor", "--via", "smtp", "--sandbox", "smtp-ok"])
    assert result.exit_code == 0, result.output
    assert "235 2.7.0 Authentication successful" in result.output
    assert "Sandbox outbox: 1 new message(s)" in result.output
    assert "Result: all checks passed" in result.output


def test_cli_options_configure_the_client_like_the_users_app():
    # The user's app asks for Graph's scope: same finding as smtp-graph-token, on the healthy tenant.
    result = CliRunner().invoke(
        main,
        ["doctor", "--via", "smtp", "--sandbox", "smtp-ok", "--smtp-scope", "https://graph.microsoft.com/.default"],
    )
    assert result.exit_code == 1 and "This is a Graph token" in result.output
    result = CliRunner().invoke(main, ["doctor", "--via", "smtp", "--sandbox", "smtp-ok", "--smtp-no-starttls"])
    assert result.exit_code == 1 and "504 5.7.4" in result.output


def test_graph_doctor_is_still_the_default():
    result = CliRunner().invoke(main, ["doctor", "--sandbox", "ok", "--json"])
    assert result.exit_code == 0
    assert not any(s["name"].startswith("smtp-") for s in json.loads(result.output)["steps"])


class _AnswerLost(smtplib.SMTP):
    """The server accepts the message, then the connection drops before its 250 arrives."""

    def data(self, msg):  # type: ignore[override]
        super().data(msg)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_lost_answer_after_data_is_ambiguous_and_never_resent():
    target = open_target(Settings(sandbox="smtp-ok"))
    channel = open_smtp_channel(target)
    channel.client_class = _AnswerLost
    try:
        steps = list(run_smtp_doctor(target.settings, target.session, channel, sandbox=target.sandbox))
    finally:
        channel.close(target)
        target.close()
    send = steps[-1]
    assert send.name == "smtp-send" and send.status == "failed" and send.error_code == "send-ambiguous"
    assert send.exit_code == 3 and "not sent again" in send.summary.lower()
    assert len(target.sandbox.outbox) == 1  # accepted once, and not sent a second time
