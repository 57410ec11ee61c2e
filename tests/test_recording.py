"""Record-then-replay round trips for every sandbox scenario, with the network blocked during replay."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from o365check.doctor import build_report, run_doctor
from o365check.errors import CassetteError, ReplayMismatchError
from o365check.recording import open_cassette
from o365check.sandbox import SCENARIOS as ALL_SCENARIOS
from o365check.sandbox import Sandbox
from o365check.settings import Settings
from o365check.targets import open_target

# The smtp-* scenarios are about SMTP AUTH, not Graph sendMail: tests/test_smtp_*.py pins them.
SCENARIOS = {n: s for n, s in ALL_SCENARIOS.items() if s.via == "graph"}

ROOT = Path(__file__).resolve().parent.parent
CANARY_SECRET = "Canary~Secret.Value-0123456789abcdefXYZ"


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Any socket connect fails loudly (and is remembered): replay must not need one."""
    attempts: list[tuple] = []

    def refuse(self: socket.socket, address: tuple) -> None:
        attempts.append(address)
        raise OSError(f"test: network blocked ({address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def doctor_json(settings: Settings, recorder) -> tuple[str, dict]:
    target = open_target(settings, recorder=recorder)
    try:
        steps = list(run_doctor(target.settings, target.session, sandbox=None, postman=True, sleep=lambda s: None))
    finally:
        target.close()
        recorder.close()
    return target.mode, build_report(target.settings, steps, target.label).to_dict()


def test_the_socket_block_is_real(no_sockets: list) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/", timeout=1)  # an IP: name resolution cannot fail first
    assert no_sockets, "the patched connect was never reached: the block proves nothing"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_record_then_replay_gives_the_same_doctor_json(
    scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / f"{scenario}.yaml"
    mode, recorded = doctor_json(Settings(sandbox=scenario), open_cassette(path, mode="rewrite"))
    assert mode == "sandbox"
    attempts: list = []
    monkeypatch.setattr(
        socket.socket, "connect", lambda self, a: attempts.append(a) or (_ for _ in ()).throw(OSError("blocked"))
    )
    mode, replayed = doctor_json(Settings(), open_cassette(path, mode="none"))
    assert mode == "replay"
    assert replayed == recorded
    assert attempts == []
    failing = SCENARIOS[scenario].failing_step
    statuses = {s["name"]: s["status"] for s in replayed["steps"]}
    assert (failing is None and replayed["ok"]) or statuses.get(failing) == "failed" or failing in ("claims", "send")


def _recorded_with_canary(tmp_path: Path) -> tuple[Path, str, dict]:
    """Record scenario ok with the sandbox secret changed to a canary; return the issued token too."""
    box = Sandbox("ok")
    box.tenant.app.secrets[0].value = CANARY_SECRET
    settings = Settings._build({**box.credentials, "client_secret": CANARY_SECRET}, {})
    path = tmp_path / "canary.yaml"
    recorder = open_cassette(path, mode="rewrite", settings=settings)
    from o365check.auth import acquire_app_token
    from o365check.http import build_session

    session = build_session(sandbox=box, recorder=recorder)
    token = acquire_app_token(settings, session).access_token.reveal()
    steps = list(run_doctor(settings, session, postman=True, sleep=lambda s: None))
    recorder.describe_recording(
        {
            "target": "canary",
            "settings": {k: getattr(settings, k) for k in ("tenant_id", "client_id", "sender", "recipient")},
        }
    )
    recorder.close()
    return path, token, build_report(settings, steps, "canary").to_dict()


def test_canary_secret_and_token_reach_no_cassette_and_no_replay_output(tmp_path: Path, no_sockets: list) -> None:
    path, token, recorded = _recorded_with_canary(tmp_path)
    assert recorded["ok"], recorded
    text = path.read_text()
    for leaked in (CANARY_SECRET, token, token.split(".")[2], requests.utils.quote(CANARY_SECRET, safe="")):
        assert leaked not in text
    # Replay with the real secret still in the environment: it is used, scrubbed, and never shown.
    settings = Settings.from_env({"AZURE_CLIENT_SECRET": CANARY_SECRET, "O365CHECK_CASSETTE": str(path)})
    mode, replayed = doctor_json(settings, open_cassette(path, mode="none", settings=settings))
    assert mode == "replay" and replayed["ok"]
    assert CANARY_SECRET not in json.dumps(replayed) and token not in json.dumps(replayed)
    assert no_sockets == []


def test_a_cassette_recorded_with_one_secret_replays_with_any_other(tmp_path: Path, no_sockets: list) -> None:
    path, _, recorded = _recorded_with_canary(tmp_path)
    other = Settings.from_env({"AZURE_CLIENT_SECRET": "a-completely-different-secret-value"})
    mode, replayed = doctor_json(other, open_cassette(path, mode="none", settings=other))
    assert mode == "replay"
    assert [s["status"] for s in replayed["steps"]] == [s["status"] for s in recorded["steps"]]


def test_mismatch_names_request_closest_and_difference_with_secrets_masked(tmp_path: Path, no_sockets: list) -> None:
    path, _, _ = _recorded_with_canary(tmp_path)
    settings = Settings.from_env({"AZURE_CLIENT_SECRET": CANARY_SECRET})
    target = open_target(
        settings.with_values(sender="someone.else@contoso.example"), recorder=open_cassette(path, settings=settings)
    )
    with pytest.raises(ReplayMismatchError) as caught:
        list(run_doctor(target.settings, target.session, sleep=lambda s: None))
    message = str(caught.value)
    assert (
        "no recorded answer for POST https://graph.microsoft.com/v1.0/users/someone.else@contoso.example/sendMail"
        in message
    )
    assert (
        "closest recorded request: POST https://graph.microsoft.com/v1.0/users/notifications@contoso.example/sendMail"
        in message
    )
    assert (
        "path: /v1.0/users/someone.else@contoso.example/sendMail instead of /v1.0/users/notifications@contoso.example/sendMail"
        in message
    )
    assert "body: message.body.content: This message" in message  # the leaf that changed, not the whole body
    # A token request with another scope: the body difference is named, the live secret is not shown.
    recorder = open_cassette(path, settings=settings)
    from o365check.http import build_session

    session = build_session(recorder=recorder)
    with pytest.raises(ReplayMismatchError) as caught:
        session.post(
            f"https://login.microsoftonline.com/{target.settings.tenant_id}/oauth2/v2.0/token",
            data={
                "client_id": target.settings.client_id,
                "client_secret": CANARY_SECRET,
                "scope": "x/.default",
                "grant_type": "client_credentials",
            },
        )
    message = str(caught.value)
    assert "scope: x/.default instead of https://graph.microsoft.com/.default" in message
    assert CANARY_SECRET not in message and "client_secret" not in message


def test_missing_cassette_in_replay_mode_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="does not exist; record it first"):
        open_cassette(tmp_path / "nope.yaml", mode="none")


def test_cassette_env_var_makes_a_fresh_interpreter_replay_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    _, recorded = doctor_json(Settings(sandbox="ok"), open_cassette(path, mode="rewrite"))
    code = (
        "import json, socket\n"
        "def refuse(*a): raise OSError('network blocked')\n"
        "socket.socket.connect = refuse\n"
        "from o365check.settings import Settings\n"
        "from o365check.targets import open_target\n"
        "from o365check.doctor import run_doctor, build_report\n"
        "t = open_target(Settings.from_env())\n"
        "steps = list(run_doctor(t.settings, t.session, postman=True))\n"
        "t.close()\n"
        "print(json.dumps({'mode': t.mode, 'report': build_report(t.settings, steps, t.label).to_dict()}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "O365CHECK_"))}
    env["O365CHECK_CASSETTE"] = str(path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout)
    assert result["mode"] == "replay"
    assert result["report"] == recorded
