"""SMTP record and replay (YAML transcript beside the HTTP cassette), and no secret or token anywhere."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from o365check.cassette_check import find_secrets
from o365check.cli import main
from o365check.diagnosis import format_diagnosis
from o365check.doctor import build_report
from o365check.recording import open_cassette
from o365check.sandbox import SCENARIOS, ClientSecret
from o365check.settings import Settings
from o365check.smtp_doctor import open_smtp_channel, run_smtp_doctor
from o365check.smtp_transcript import FORMAT, transcript_path
from o365check.targets import open_target

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "collections" / "cassettes"
SMTP_SCENARIOS = [n for n, s in SCENARIOS.items() if s.via == "smtp"]
CANARY = "canary-Q~smtp-7f3e2d1c-DO-NOT-LEAK"
# A signed JWT (three parts, a real signature) or an XOAUTH2 initial response ("user=" in base64).
SIGNED_JWT = re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{20,}")
XOAUTH2_BLOB = "dXNlcj1"


def doctor_json(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["doctor", "--via", "smtp", "--json", "--max-wait", "0", *args])
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize("name", SMTP_SCENARIOS)
def test_committed_smtp_cassette_replays_offline_as_recorded(name):
    cassette = CASSETTES / f"doctor-{name}.yaml"
    transcript = yaml.safe_load(transcript_path(cassette).read_text())
    assert transcript["format"] == FORMAT
    assert "tools/record_smtp_cassettes.py" in transcript["metadata"]["generated_by"]
    assert transcript["metadata"]["recorded_against"].startswith("the o365check sandbox")
    code, report = doctor_json("--replay", str(cassette))
    scenario = SCENARIOS[name]
    assert code == (0 if scenario.failing_step is None else 1)
    failed = [s for s in report["steps"] if s["status"] == "failed"]
    assert (failed[0]["name"] if failed else None) == scenario.failing_step
    if scenario.error_code:
        assert scenario.error_code in [s["error_code"] for s in failed]
    assert report["target"] == f"sandbox scenario {name!r}"


@pytest.mark.parametrize("name", ["smtp-ok", "smtp-graph-token", "smtp-sendas-denied", "smtp-auth-before-starttls"])
def test_record_then_replay_gives_the_same_report(name, tmp_path):
    cassette = tmp_path / f"doctor-{name}.yaml"
    recorded_code, recorded = doctor_json("--sandbox", name, "--record", str(cassette))
    assert transcript_path(cassette).is_file()
    replayed_code, replayed = doctor_json("--replay", str(cassette))
    assert replayed_code == recorded_code
    assert replayed["steps"] == recorded["steps"]


def test_replay_refuses_a_client_that_sends_something_else(tmp_path):
    cassette = tmp_path / "doctor-smtp-ok.yaml"
    doctor_json("--sandbox", "smtp-ok", "--record", str(cassette))
    # Replaying with another recipient: RCPT TO differs from the recorded dialogue.
    code, report = doctor_json("--replay", str(cassette), "--to", "someone-else@contoso.example")
    send = next(s for s in report["steps"] if s["name"] == "smtp-send")
    assert code == 2 and send["status"] == "failed"
    assert "someone-else@contoso.example" in send["summary"] and "rcpt" in send["summary"].lower()


def test_replay_without_the_transcript_names_the_missing_file(tmp_path):
    cassette = tmp_path / "doctor-smtp-ok.yaml"
    doctor_json("--sandbox", "smtp-ok", "--record", str(cassette))
    transcript_path(cassette).unlink()
    result = CliRunner().invoke(main, ["doctor", "--via", "smtp", "--replay", str(cassette)])
    assert result.exit_code == 2
    assert "doctor-smtp-ok.smtp.yaml" in result.output and "does not exist" in result.output


def test_no_secret_or_token_in_any_smtp_output_log_transcript_or_cassette(tmp_path, caplog):
    cassette = tmp_path / "doctor-smtp-canary.yaml"
    settings = Settings(sandbox="smtp-no-mailbox-permission").with_values(client_secret=CANARY)
    recorder = open_cassette(cassette, mode="rewrite", settings=settings)
    target = open_target(settings, recorder=recorder)
    # The canary is this tenant's real secret, so it is sent, a token is issued and AUTH is attempted.
    target.sandbox.tenant.app.secrets.append(
        ClientSecret("9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a", CANARY, target.sandbox.tenant.app.secrets[0].expires_at)
    )
    channel = open_smtp_channel(target)
    caplog.set_level(logging.DEBUG)
    try:
        steps = list(run_smtp_doctor(target.settings, target.session, channel, sleep=lambda s: None))
        server_log = "\n".join(target.sandbox.smtp_server().log)
    finally:
        channel.close(target)
        target.close()
        recorder.close()
    report = build_report(target.settings, steps, target.label)
    # The SMTP side's logs: aiosmtpd's (mail.log) and ours. (vcrpy's own INFO log of HTTP recordings is
    # not SMTP: the CLI masks it with RedactingFilter.)
    smtp_logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("mail.log", "o365check")))
    assert "AUTH XOAUTH2" in smtp_logs  # the dialogue was logged, with the initial response masked
    assert [s.name for s in steps if s.status == "failed"] == ["smtp-auth"]  # the token really was used
    shown = "\n".join(
        [
            json.dumps(report.to_dict()),
            *(format_diagnosis(s.diagnosis) for s in steps if s.diagnosis),
            smtp_logs,
            server_log,
        ]
    )
    files = {p: p.read_text() for p in (cassette, transcript_path(cassette))}
    for where, text in {"output": shown, **{str(p): t for p, t in files.items()}}.items():
        assert CANARY not in text, where
        assert not SIGNED_JWT.search(text), where
        assert XOAUTH2_BLOB not in text, where
    for path in files:
        assert find_secrets(path, canaries=[CANARY]) == []
    # the transcript still shows who authenticated and what the token claimed
    transcript = yaml.safe_load(files[transcript_path(cassette)])
    auth = next(e for e in transcript["dialogue"] if e.get("send") == "AUTH XOAUTH2")
    assert auth["xoauth2"]["user"] == "notifications@contoso.example"
    assert auth["xoauth2"]["token"].startswith("Bearer o365check-redacted.eyJ")


def test_cli_record_with_a_canary_secret_leaks_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", CANARY)
    cassette = tmp_path / "doctor.yaml"
    result = CliRunner().invoke(main, ["doctor", "--via", "both", "--sandbox", "smtp-ok", "--record", str(cassette)])
    assert result.exit_code == 1  # the canary is not this sandbox app's secret: AADSTS7000215
    for text in (result.output, cassette.read_text(), transcript_path(cassette).read_text()):
        assert CANARY not in text
