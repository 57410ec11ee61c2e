"""The guide's collections against the sandbox: exit codes and diagnoses, as `o365check run --sandbox`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from o365check.postman.command import RunOptions, run_collection_cli
from o365check.sandbox import SCENARIOS as ALL_SCENARIOS
from o365check.sandbox import Sandbox

# The smtp-* scenarios are about SMTP AUTH, not Graph sendMail: tests/test_smtp_*.py pins them.
SCENARIOS = {n: s for n, s in ALL_SCENARIOS.items() if s.via == "graph"}


ROOT = Path(__file__).parents[1]
GUIDE = str(ROOT / "collections" / "office365-sendmail.postman_collection.json")
OAUTH2 = str(ROOT / "collections" / "office365-sendmail-oauth2.postman_collection.json")
FAILING = [name for name, s in SCENARIOS.items() if s.error_code]


def run(collection: str, **options: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_collection_cli(RunOptions(collection, no_color=True, **options), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("collection", [GUIDE, OAUTH2], ids=["token-request", "oauth2-helper"])
def test_guide_collections_pass_against_the_ok_sandbox(collection: str) -> None:
    code, out, err = run(collection, sandbox="ok")
    assert code == 0, out + err
    assert "[202 Accepted" in out and "✓  sendMail is accepted (202)" in out
    assert "failure" not in out


def test_the_message_reaches_the_sandbox_outbox_once_per_iteration() -> None:
    box = Sandbox("ok")
    from o365check.http import build_session

    session = build_session(sandbox=box)
    env = ROOT / "collections" / "example.postman_environment.json"
    options = RunOptions(
        GUIDE,
        no_color=True,
        iterations=3,
        env_vars=[f"{k}={v}" for k, v in box.credentials.items()],
        environment=str(env),
    )
    assert run_collection_cli(options, io.StringIO(), io.StringIO(), session=session) == 0
    assert len(box.outbox) == 3


@pytest.mark.parametrize("scenario", FAILING)
def test_failing_scenarios_exit_1_with_the_diagnosis(scenario: str) -> None:
    code, out, _ = run(GUIDE, sandbox=scenario)
    assert code == 1
    assert f"Code: {SCENARIOS[scenario].error_code}" in out
    assert "1. " in out and "#  failure" in out


def test_oauth2_variant_reports_a_refused_token_with_its_diagnosis() -> None:
    code, out, _ = run(OAUTH2, sandbox="secret-id-not-value")
    assert code == 1
    assert "Code: AADSTS7000215" in out and "RequestError" in out


def test_unusable_input_exits_2_and_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.postman_collection.json"
    broken.write_text('{"info": ')
    code, out, err = run(str(broken))
    assert code == 2 and str(broken) in err and "line 1" in err
    assert run(GUIDE, sandbox="no-such-scenario")[0] == 2
    assert run(GUIDE, reporters=["html"])[0] == 2


def test_export_environment_masks_secrets_unless_asked(tmp_path: Path) -> None:
    masked, revealed = tmp_path / "m.json", tmp_path / "r.json"
    assert run(GUIDE, sandbox="ok", export_environment=str(masked))[0] == 0
    assert run(GUIDE, sandbox="ok", export_environment=str(revealed), export_secrets=True)[0] == 0
    secret = Sandbox("ok").credentials["client_secret"]
    m = {v["key"]: v for v in json.loads(masked.read_text())["values"]}
    r = {v["key"]: v for v in json.loads(revealed.read_text())["values"]}
    assert m["client_secret"]["value"] == "********" and m["client_secret"]["type"] == "secret"
    assert m["access_token"]["value"] == "********"
    assert r["client_secret"]["value"] == secret and r["access_token"]["value"].count(".") == 2
    assert secret not in masked.read_text()


def test_no_colour_codes_when_not_at_a_terminal() -> None:
    import io

    from o365check.postman.command import RunOptions, run_collection_cli

    out = io.StringIO()
    code = run_collection_cli(
        RunOptions(
            collection=str(
                Path(__file__).resolve().parents[1] / "collections" / "office365-sendmail.postman_collection.json"
            ),
            sandbox="ok",
        ),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0
    assert "\x1b[" not in out.getvalue() and "sendMail is accepted (202)" in out.getvalue()
