"""`o365check cassette check`, the committed cassettes, and collection runs replayed offline."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from o365check.cli import main
from o365check.postman.command import RunOptions, run_collection_cli
from o365check.sandbox import SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "collections" / "cassettes"
COLLECTION = ROOT / "collections" / "office365-sendmail.postman_collection.json"
COMMITTED = sorted(CASSETTES.glob("*.yaml"))


def test_every_scenario_has_a_committed_doctor_and_collection_cassette() -> None:
    names = {p.name for p in COMMITTED}
    for scenario in SCENARIOS:
        assert f"doctor-{scenario}.yaml" in names and f"{scenario}.yaml" in names
    assert all("recorded_against: the o365check sandbox" in p.read_text() for p in COMMITTED)


def test_cassette_check_passes_every_committed_cassette() -> None:
    result = CliRunner().invoke(main, ["cassette", "check", *map(str, COMMITTED)])
    assert result.exit_code == 0, result.output
    assert f"{len(COMMITTED)} file(s) clean." in result.output


DIRTY = {
    "client_secret=abc123def&scope=x": "a secret form field",
    "Authorization: Bearer abcdefghijkl": "a Bearer credential",
    "Authorization: Basic dXNlcjpwYXNzd29yZA==": "a Basic credential",
    'string: \'{"access_token": "not-a-placeholder"}\'': "a secret JSON field",
    "token: " + ".".join(["eyJhbGciOiJub25lIn0", "eyJzdWIiOiJ4In0", "c2ln"]): "a JWT",  # joined: no JWT in the source
    "Set-Cookie: fpc=abc": "a cookie",
}


@pytest.mark.parametrize("line,what", DIRTY.items())
def test_cassette_check_names_file_line_and_what(tmp_path: Path, line: str, what: str) -> None:
    path = tmp_path / "dirty.yaml"
    path.write_text("interactions: []\n" + line + "\n")
    result = CliRunner().invoke(main, ["cassette", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: {what}" in result.output
    assert "abc123def" not in result.output and "abcdefghijkl" not in result.output


def test_cassette_check_finds_a_canary_in_any_encoding_and_accepts_placeholders(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "a: client_secret=o365check-redacted&x=1\nb: Bearer o365check-redacted.eyJhIjoxfQ\nc: x=Can%7Eary%2Bvalue\n"
    )
    clean = CliRunner().invoke(main, ["cassette", "check", str(path)])
    assert clean.exit_code == 0, clean.output
    dirty = CliRunner().invoke(main, ["cassette", "check", str(path), "--canary", "Can~ary+value"])
    assert dirty.exit_code == 1 and f"{path}:3: the canary value" in dirty.output


def test_cassette_check_exits_2_on_an_unreadable_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["cassette", "check", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2


def _normalized(text: str) -> str:
    """Timings and sizes differ between a run and its replay (the scrubbed token is shorter)."""
    return re.sub(r" +", " ", re.sub(r"\d+(\.\d+)?\s?(ms|kB|B|s)\b", "N", text))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_collection_record_then_replay_gives_the_same_report(
    scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / f"{scenario}.yaml"
    recorded = io.StringIO()
    code = run_collection_cli(
        RunOptions(str(COLLECTION), sandbox=scenario, record=str(path), no_color=True), recorded, recorded
    )
    monkeypatch.setattr(socket.socket, "connect", lambda *a: (_ for _ in ()).throw(OSError("network blocked")))
    replayed = io.StringIO()
    assert run_collection_cli(RunOptions(str(COLLECTION), replay=str(path), no_color=True), replayed, replayed) == code
    # The first line says what answers: the sandbox when recording, the cassette when replaying (issue 12).
    first_recorded, rest_recorded = recorded.getvalue().split("\n", 1)
    first_replayed, rest_replayed = replayed.getvalue().split("\n", 1)
    assert first_recorded.startswith(f"o365check run: SANDBOX sandbox scenario {scenario!r}")
    assert first_replayed == (
        f"o365check run: replaying {path} (network blocked; recorded against sandbox scenario {scenario!r})"
    )
    assert _normalized(rest_replayed) == _normalized(rest_recorded)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_committed_cassettes_replay_offline(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", lambda *a: (_ for _ in ()).throw(OSError("network blocked")))
    out = io.StringIO()
    code = run_collection_cli(
        RunOptions(str(COLLECTION), replay=str(CASSETTES / f"{scenario}.yaml"), no_color=True), out, out
    )
    assert code == (0 if SCENARIOS[scenario].failing_step is None else 1), out.getvalue()
    result = CliRunner().invoke(
        main,
        ["doctor", "--replay", str(CASSETTES / f"doctor-{scenario}.yaml"), "--json", "--postman", "--max-wait", "0"],
    )
    assert '"target": "sandbox scenario ' + repr(scenario).replace("'", "'") in result.output
    assert result.exit_code == (
        0 if SCENARIOS[scenario].failing_step is None else 1 if SCENARIOS[scenario].failing_step != "settings" else 2
    ), result.output
