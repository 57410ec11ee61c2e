"""The command line: output, --json shape, exit codes, and no secret or token anywhere."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import o365check.targets
from o365check.cli import main
from o365check.sandbox import SCENARIOS

CANARY_SECRET = "CANARY~secret.Value+42/x="


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


@pytest.fixture
def captured_tokens(monkeypatch):
    """Make every sandbox accept the canary secret, and remember every token it hands out."""
    tokens = []
    real_open_target = o365check.targets.open_target

    def open_target(settings, **kwargs):
        target = real_open_target(settings, **kwargs)
        app = target.sandbox.tenant.app
        if target.sandbox.scenario.name not in ("wrong-secret", "secret-id-not-value"):
            for secret in app.secrets:
                secret.value = CANARY_SECRET

        def remember(response, *args, **kw):
            if (
                response.headers.get("Content-Type", "").startswith("application/json")
                and "access_token" in response.text
            ):
                tokens.append(response.json()["access_token"])
            return response

        target.session.hooks["response"].append(remember)
        return target

    monkeypatch.setattr(o365check.targets, "open_target", open_target)
    return tokens


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_secret_or_token_in_any_output(name, captured_tokens):
    outputs = []
    for extra in ([], ["--json"]):
        # --debug logs every request and response (headers and bodies) to stderr, which is in .output
        result = CliRunner().invoke(
            main, ["--debug", "doctor", "--sandbox", name, "--client-secret", CANARY_SECRET, *extra], env={}
        )
        assert (
            "DEBUG o365check.http: POST https://login.microsoftonline.com/" in result.output
            or SCENARIOS[name].failing_step == "discovery"
        )
        outputs += [result.output, str(result.exception or "")]
    if SCENARIOS[name].failing_step not in ("settings", "discovery", "token"):
        assert captured_tokens, "the sandbox issued no token: the test would prove nothing"
    text = "\n".join(outputs)
    assert CANARY_SECRET not in text
    for token in captured_tokens:
        assert token not in text and token.split(".")[1] not in text
    assert "eyJ" not in text


def test_doctor_json_shape():
    result = run("doctor", "--sandbox", "wrong-permission", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    steps = {s["name"]: s for s in report["steps"]}
    assert set(steps) == {"settings", "discovery", "token", "claims", "send"}
    assert {"name", "status", "error_code", "diagnosis"} <= set(steps["send"])
    assert steps["send"]["status"] == "failed" and steps["send"]["error_code"] == "ErrorAccessDenied"
    assert {"title", "fixes"} <= set(steps["send"]["diagnosis"])
    assert steps["token"]["status"] == "passed" and steps["token"]["error_code"] is None


def test_doctor_human_output_names_step_code_and_fix():
    result = run("doctor", "--sandbox", "secret-expired")
    assert result.exit_code == 1
    assert "[FAIL] token" in result.output
    assert "AADSTS7000222" in result.output
    assert "The client secret has expired" in result.output
    assert "[SKIP] send" in result.output
    assert "\x1b[" not in result.output  # no colour when not at a terminal


def test_doctor_ok_passes_and_mentions_outbox():
    result = run("doctor")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("o365check doctor: SANDBOX sandbox scenario 'ok'") and "nothing was given" in first
    assert "Sandbox outbox: 1 new message(s)" in result.output
    assert "Result: all checks passed" in result.output


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["doctor", "--sandbox", "ok", "--tenant-id", "{{tenantid}}"], 2, "Postman variable reference {{tenantid}}"),
        (["doctor", "--sandbox", "ok", "--tenant-id", "<tenant>"], 2, "still a placeholder"),
        (["doctor", "--sandbox", "no-such-scenario"], 2, "is not a sandbox scenario"),
        (["doctor", "--bogus"], 2, "No such option"),
        (["consent-url", "--tenant-id", "contoso", "--client-id", "x"], 2, "not a GUID"),
    ],
)
def test_unusable_input_exits_2_without_traceback(args, code, words):
    result = CliRunner().invoke(main, args, env={})
    assert result.exit_code == code
    assert words in result.output
    assert "Traceback" not in result.output


def test_consent_url_is_filled():
    result = run(
        "consent-url", "--tenant-id", "contoso.onmicrosoft.com", "--client-id", "4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d"
    )
    assert result.exit_code == 0
    assert (
        result.stdout.strip()
        == "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d"
    )


def test_token_shows_claims_not_the_token(captured_tokens):
    result = run("token", "--sandbox", "--client-secret", CANARY_SECRET)
    assert result.exit_code == 0
    assert "roles  Mail.Send" in result.output
    assert captured_tokens and captured_tokens[0] not in result.output


def test_send_reports_outbox():
    result = run("send", "--sandbox", "--to", "someone@contoso.example")
    assert result.exit_code == 0
    assert "someone@contoso.example" in result.output and "outbox now holds 1 message(s)" in result.output


def test_send_failure_exits_1_with_diagnosis():
    result = CliRunner().invoke(main, ["send", "--sandbox", "access-policy-denied"], env={})
    assert result.exit_code == 1
    assert "application access policy" in result.output


def test_scope_mailboxes_fills_commands():
    result = run(
        "scope-mailboxes",
        "--client-id",
        "4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d",
        "--sender",
        "noreply@contoso.example",
        "--group",
        "Mail senders",
    )
    assert result.exit_code == 0
    assert (
        "New-ApplicationAccessPolicy -AppId '4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d' -PolicyScopeGroupId 'Mail senders'"
        in result.output
    )
    assert "Test-ApplicationAccessPolicy -Identity 'noreply@contoso.example'" in result.output


def test_sandbox_scenarios_lists_every_scenario_in_one_line_each():
    lines = run("sandbox", "scenarios").output.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(SCENARIOS)


def test_no_color_and_version():
    assert run("--version").output.startswith("o365check, version")


def test_live_unreachable_exits_3_in_a_real_process(tmp_path):
    env = {
        "AZURE_TENANT_ID": "8c7e6f0a-3b1d-4c2e-9f5a-1d2e3f4a5b6c",
        "AZURE_CLIENT_ID": "4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d",
        "AZURE_CLIENT_SECRET": CANARY_SECRET,
        "O365CHECK_SENDER": "a@contoso.example",
        "PATH": "/usr/bin:/bin",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }  # a closed local port: nothing leaves the machine
    result = subprocess.run(
        [sys.executable, "-m", "o365check.cli", "doctor"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "[FAIL] discovery" in result.stdout and "could not reach login.microsoftonline.com" in result.stdout
    assert CANARY_SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
def test_sandbox_outbox_lists_what_a_served_sandbox_accepted():
    from o365check.auth import acquire_app_token
    from o365check.graph import send_mail
    from o365check.http import build_session
    from o365check.mail import build_test_message
    from o365check.sandbox import Sandbox
    from o365check.settings import Settings

    box = Sandbox("ok")
    with box.serve(port=0) as server:
        settings = Settings._build(dict(box.credentials), {})
        session = build_session(sandbox=box)
        send_mail(
            session,
            settings,
            acquire_app_token(settings, session).access_token,
            build_test_message(settings.sender, "x@contoso.example"),
        )
        listed = run("sandbox", "outbox", server.base_url)
        as_json = json.loads(run("sandbox", "outbox", server.base_url, "--json").output)
    assert (
        listed.exit_code == 0 and "1 message(s) accepted" in listed.output and "o365check test message" in listed.output
    )
    assert as_json[0]["to"] == ["x@contoso.example"]


@pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
def test_sandbox_outbox_of_a_dead_server_exits_3():
    result = CliRunner().invoke(main, ["sandbox", "outbox", "http://127.0.0.1:9"], env={})
    assert result.exit_code == 3 and "could not reach 127.0.0.1" in result.output
