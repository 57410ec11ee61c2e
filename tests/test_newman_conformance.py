"""Newman conformance: the same collection, run by Newman and by ``o365check run`` (both as whole
processes) against the same loopback server, must give the same requests, status codes, test names
and results, and the same variables afterwards.

Where Newman is wrong by documented design (runner-facts §1, issue 3) the difference is asserted,
not skipped: the OAuth 2.0 helper is never fetched by Newman (newman#2996), Newman writes secrets
in plain text into its exports (§4.2), Newman ignores ``"enabled": false`` (§1.3).

Report quirk normalised before comparing: an unnamed item has no name in Newman's report and
"item N" in ours. (Newman's JSON reporter lists an item once per request it made, pm.sendRequest
included, every entry showing the item's last request; o365check's report does the same.)

Servers: one ``o365check sandbox serve`` subprocess per scenario test; one in-thread echo server
(``tests/echo_server.py``) per module for the conformance and corpus collections. Newman comes from
``.ci/node_modules`` or PATH (``newman_support.need_newman``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import pytest
from echo_server import ECHO_ORIGINS, PostmanEchoApp, rewrite_echo_urls, serve_echo
from newman_support import (
    ROOT,
    Execution,
    RunResult,
    need_corpus,
    need_newman,
    run_newman,
    run_o365check,
    serve_sandbox,
)

from o365check.postman import libraries
from o365check.redact import MASK

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

GUIDE = ROOT / "collections" / "office365-sendmail.postman_collection.json"
GUIDE_OAUTH2 = ROOT / "collections" / "office365-sendmail-oauth2.postman_collection.json"
SCRIPTS = ROOT / "tests" / "conformance" / "scripts.postman_collection.json"
LIBRARIES = ROOT / "tests" / "conformance" / "libraries.postman_collection.json"
SENDMAIL_TEST = "sendMail is accepted (202)"


@pytest.fixture(scope="module")
def newman() -> str:
    return need_newman()


def _runs_agree(newman_run: RunResult, ours: RunResult) -> None:
    """Same request sequence, status codes, test names and pass/fail, and the same exit code."""
    assert ours.executions == newman_run.executions, ours.output[-2000:]
    assert ours.exit_code == newman_run.exit_code, ours.output[-2000:]


def _variables_agree(newman_run: RunResult, ours: RunResult, secrets: set[str]) -> None:
    """Same variables afterwards; secrets are masked in ours and in plain text in Newman's (§4.2)."""
    theirs, mine = newman_run.variables, ours.variables
    assert set(mine) == set(theirs)
    for key in secrets:
        assert mine[key] == MASK, f"{key} must be masked in o365check's export"
        assert theirs[key] not in ("", None, MASK), f"Newman exports {key} in plain text (documented)"
    assert {k: v for k, v in mine.items() if k not in secrets} == {k: v for k, v in theirs.items() if k not in secrets}


# -- our collections against `o365check sandbox serve` ------------------------------------------

# scenario -> status codes of the token request and of sendMail, as both runners must see them
GUIDE_SCENARIOS = {
    "ok": [200, 202],
    "wrong-secret": [401, 401],  # no token stored: sendMail carries the unresolved {{access_token}}
    "no-admin-consent": [200, 401],
    "mailbox-unlicensed": [200, 404],
}


@pytest.mark.parametrize("scenario", sorted(GUIDE_SCENARIOS))
def test_guide_collection_agrees_with_newman(scenario: str, newman: str, tmp_path: Path) -> None:
    environment = tmp_path / "sandbox.postman_environment.json"
    with serve_sandbox(scenario, environment) as base_url:
        newman_run = run_newman(newman, GUIDE, ["-e", str(environment)], tmp_path)
        ours = run_o365check(GUIDE, ["-e", str(environment)], tmp_path)
    _runs_agree(newman_run, ours)
    codes = [e.code for e in ours.executions]
    assert codes == GUIDE_SCENARIOS[scenario]
    assert [(e.method, e.url.split("/")[2]) for e in ours.executions] == [("POST", base_url.split("/")[2])] * 2
    assert ours.exit_code == (0 if scenario == "ok" else 1)
    secrets = {"client_secret"} | ({"access_token"} if "access_token" in ours.variables else set())
    _variables_agree(newman_run, ours, secrets)


def test_oauth2_helper_collection_passes_in_o365check_and_fails_in_newman(newman: str, tmp_path: Path) -> None:
    """Documented difference (runner-facts §3, newman#2996): Newman never fetches the OAuth 2.0
    token, so sendMail goes out without Authorization and Graph answers 401; o365check fetches it."""
    environment = tmp_path / "sandbox.postman_environment.json"
    with serve_sandbox("ok", environment):
        newman_run = run_newman(newman, GUIDE_OAUTH2, ["-e", str(environment)], tmp_path)
        ours = run_o365check(GUIDE_OAUTH2, ["-e", str(environment)], tmp_path)
    assert [(e.name, e.method, e.url) for e in ours.executions] == [
        (e.name, e.method, e.url) for e in newman_run.executions
    ]
    assert [(e.code, e.tests) for e in newman_run.executions] == [(401, ((SENDMAIL_TEST, False),))]
    assert [(e.code, e.tests) for e in ours.executions] == [(202, ((SENDMAIL_TEST, True),))]
    assert (newman_run.exit_code, ours.exit_code) == (1, 0)
    sent = newman_run.report["run"]["executions"][0]["request"]["header"]
    assert not [h for h in sent if h["key"].lower() == "authorization"], "Newman sent an Authorization header"


# -- our conformance collection with scripts, against the loopback echo -------------------------


@pytest.fixture(scope="module")
def echo() -> Iterator[tuple[str, PostmanEchoApp]]:
    with serve_echo() as served:
        yield served


def _echo_environment(path: Path, base_url: str) -> Path:
    # enabled:false is ignored by Newman (runner-facts §1.3), so the conformance run carries none.
    document = {
        "id": "conformance",
        "name": "conformance",
        "_postman_variable_scope": "environment",
        "values": [{"key": "echo_base", "value": base_url, "type": "default", "enabled": True}],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _run_both_logged(
    newman: str, app: PostmanEchoApp, collection: Path, args: list[str], work: Path
) -> tuple[RunResult, list[tuple[str, str]], RunResult, list[tuple[str, str]]]:
    """Run Newman then o365check; return each run with the requests the echo server received.

    Paths are compared percent-decoded: Newman sends some characters raw (``{{x}}`` left
    unresolved, ``\\``) that requests percent-encodes; the server reads both the same.
    """
    start = len(app.requests)
    newman_run = run_newman(newman, collection, args, work)
    middle = len(app.requests)
    ours = run_o365check(collection, args, work)
    seen = [(method, unquote(path)) for method, path in app.requests]
    return newman_run, seen[start:middle], ours, seen[middle:]


def _as_o365check_reports_it(run: RunResult) -> list[Execution]:
    """Newman's executions, minus one reporting quirk: an item without a name has none (o365check
    names it "item N", its position in its folder, so the console and failures can point at it).
    (An item that calls pm.sendRequest is listed once per request, in both reports.)"""
    kept = []
    for raw, execution in zip(run.report["run"]["executions"], run.executions, strict=False):
        if not execution.name and raw.get("cursor"):
            execution = replace(execution, name=f"item {raw['cursor']['position'] + 1}")
        kept.append(execution)
    return kept


def test_scripts_collection_agrees_with_newman(newman: str, echo: tuple[str, PostmanEchoApp], tmp_path: Path) -> None:
    base_url, app = echo
    environment = _echo_environment(tmp_path / "echo.postman_environment.json", base_url)
    newman_run, newman_log, ours, our_log = _run_both_logged(newman, app, SCRIPTS, ["-e", str(environment)], tmp_path)

    assert our_log == newman_log  # the server saw the same requests in the same order
    theirs = _as_o365check_reports_it(newman_run)
    assert [e.name for e in ours.executions] == [e.name for e in theirs]
    for mine, their in zip(ours.executions, theirs, strict=False):
        assert (mine.name, mine.code, mine.tests) == (their.name, their.code, their.tests)
        assert (mine.method, mine.url) == (their.method, their.url)
    assert ours.exit_code == newman_run.exit_code == 1  # the collection holds deliberately failing tests
    failing = {name for e in ours.executions for name, passed in e.tests if not passed}
    assert "deliberately failing: 1 equals 2" in failing and "equality and types" not in failing
    _variables_agree(newman_run, ours, secrets=set())
    assert ours.variables["legacy_x"] == "42" and ours.variables["sent_code"] == "200"


def test_libraries_variables_and_send_request_agree_with_newman(
    newman: str, echo: tuple[str, PostmanEchoApp], tmp_path: Path
) -> None:
    """The sandbox's libraries (require() and the legacy globals), redeclaring globals, variables set
    to undefined, pm.variables kept between requests, and pm.sendRequest's request definitions
    (header forms, body modes, auth) and response API: same requests, tests, variables and report."""
    if not libraries.available() and os.environ.get("CI") == "true":
        pytest.fail("the script libraries are not built: run `python tools/fetch_script_libraries.py` (make does)")
    base_url, app = echo
    environment = _echo_environment(tmp_path / "echo.postman_environment.json", base_url)
    newman_run, newman_log, ours, our_log = _run_both_logged(newman, app, LIBRARIES, ["-e", str(environment)], tmp_path)

    assert our_log == newman_log
    assert ours.executions == newman_run.executions  # one entry per request, sendRequests included
    assert all(passed for e in ours.executions for _, passed in e.tests), ours.output[-3000:]
    assert [e.name for e in ours.executions].count("pm.sendRequest request definitions") == 7
    theirs, mine = newman_run.report["run"]["stats"], ours.report["run"]["stats"]
    for counter in ("requests", "assertions", "scripts", "testScripts", "prerequestScripts"):
        assert mine[counter] == theirs[counter], counter
    # the SyntaxError and the refused connection fail both runs; o365check's exit code says which
    # kind of failure is worst (3: a service could not be reached), Newman's is always 1
    assert (ours.exit_code, newman_run.exit_code) == (3, 1)
    _variables_agree(newman_run, ours, secrets=set())
    assert ours.variables["undef_env"] is None and "never_set" not in ours.variables
    assert ours.variables["lib_hash"] == "2c5ea87d80f806bcc7b5f1822b48ac4c"  # CryptoJS.MD5('o365check')


def test_enabled_false_is_honoured_where_newman_ignores_it(
    newman: str, echo: tuple[str, PostmanEchoApp], tmp_path: Path
) -> None:
    """Documented difference (runner-facts §1.3, newman#1710): Newman resolves a variable the
    Postman app exported with ``"enabled": false``; o365check leaves it unresolved, as Postman does."""
    base_url, app = echo
    environment = tmp_path / "off.postman_environment.json"
    environment.write_text(
        json.dumps(
            {
                "name": "off",
                "values": [
                    {"key": "echo_base", "value": base_url, "enabled": True},
                    {"key": "off_var", "value": "should-not-be-used", "type": "default", "enabled": False},
                ],
            }
        ),
        encoding="utf-8",
    )
    collection = tmp_path / "off.postman_collection.json"
    collection.write_text(
        json.dumps(
            {
                "info": {
                    "name": "enabled false",
                    "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
                },
                "item": [
                    {"name": "uses off_var", "request": {"method": "GET", "url": "{{echo_base}}/get?v={{off_var}}"}}
                ],
            }
        ),
        encoding="utf-8",
    )
    newman_run, newman_log, ours, our_log = _run_both_logged(
        newman, app, collection, ["-e", str(environment)], tmp_path
    )
    assert newman_log == [("GET", "/get?v=should-not-be-used")]
    assert our_log == [("GET", "/get?v={{off_var}}")]
    assert newman_run.exit_code == ours.exit_code == 0


# -- the corpus collections that need no internet, against the loopback echo --------------------


def _corpus(*parts: str) -> Path:
    return need_corpus().joinpath(*parts)


# collection -> extra options (paths relative to the corpus), as Newman's own integration tests run them
CORPUS_CASES: dict[str, list[str]] = {
    "newman-examples/sample-collection.json": [],
    "newman-integration/bom-and-encoding/bom-in-collection-file.postman_collection.json": [],
    "newman-integration/bom-and-encoding/utf16-le-encoding-in-env.postman_collection.json": [
        "-e",
        "newman-integration/bom-and-encoding/utf16-le-encoding-in-env.postman_environment.json",
    ],
    "newman-integration/disabled-and-duplicate-variables/disabled-and-duplicates.postman_collection.json": [
        "-e",
        "newman-integration/disabled-and-duplicate-variables/disabled-and-duplicates.postman_environment.json",
    ],
    "newman-integration/esc-formdata/esc-formdata.postman_collection.json": [
        "-e",
        "newman-integration/esc-formdata/esc-formdata.postman_environment.json",
    ],
    "newman-integration/inherited-entities/inherited-entities.postman_collection.json": [
        "-e",
        "newman-integration/inherited-entities/inherited-entities.postman_environment.json",
    ],
    "newman-integration/globals-env-data-files/globals-env-data-files.postman_collection.json": [
        "-e",
        "newman-integration/globals-env-data-files/globals-env-data-files.postman_environment.json",
        "-g",
        "newman-integration/globals-env-data-files/globals-env-data-files.postman_globals.json",
        "-d",
        "newman-integration/globals-env-data-files/globals-env-data-files.postman_data.json",
    ],
    "newman-integration/csv-with-bom/csv-with-bom.postman_collection.json": [
        "-d",
        "newman-integration/csv-with-bom/csv-with-bom.postman_data.csv",
    ],
    "newman-integration/comma-test-csv/comma-test-csv.postman_collection.json": [
        "-d",
        "newman-integration/comma-test-csv/comma-test-csv.postman_data.csv",
    ],
    "newman-integration/multi-level-folders-v2.postman_collection.json": [],
    "newman-integration/multiple-form-values.postman_collection.json": [],
    "newman-integration/request-chaining-test.postman_collection.json": [],
    "newman-integration/var-replacement.postman_collection.json": [],
    "postman-schemas-v2.1.0/nestedEntities.json": [],
    "postman-schemas-v2.1.0/reqBodyGraphQL.json": [],
    "postman-schemas-v2.1.0/reqBodyNull.json": [],
}


def _read_text(path: Path) -> str:
    """A corpus file's text whatever its encoding (BOM, UTF-16LE: Newman's own fixtures)."""
    raw = path.read_bytes()
    return raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")


def _pointed_at_echo(path: Path, base_url: str, work: Path) -> Path:
    """``path``, or a rewritten temp copy when it names the echo service (environment files do)."""
    text = _read_text(path)
    if path.suffix != ".json" or not any(origin in text for origin in ECHO_ORIGINS):
        return path  # untouched, so encoding fixtures (BOM, UTF-16LE) keep their bytes
    copy = work / f"echo-{path.name}"
    copy.write_text(rewrite_echo_urls(text, base_url), encoding="utf-8")
    return copy


@pytest.mark.corpus
@pytest.mark.parametrize("relative", sorted(CORPUS_CASES))
def test_corpus_collection_agrees_with_newman(
    relative: str, newman: str, echo: tuple[str, PostmanEchoApp], tmp_path: Path
) -> None:
    base_url, app = echo
    source = _corpus(*relative.split("/"))
    collection = tmp_path / source.name  # a rewritten temp copy; the corpus stays untouched
    collection.write_text(rewrite_echo_urls(_read_text(source), base_url), encoding="utf-8")
    args = [
        str(_pointed_at_echo(_corpus(*a.split("/")), base_url, tmp_path)) if "/" in a else a
        for a in CORPUS_CASES[relative]
    ]
    newman_run, newman_log, ours, our_log = _run_both_logged(newman, app, collection, args, tmp_path)

    assert our_log == newman_log
    assert ours.executions == _as_o365check_reports_it(newman_run)
    assert ours.exit_code == newman_run.exit_code, ours.output[-2000:]
    if newman_run.environment is not None and ours.environment is not None:
        assert ours.variables == newman_run.variables


@pytest.mark.corpus
def test_corpus_collection_using_lodash_agrees_with_newman(
    newman: str, echo: tuple[str, PostmanEchoApp], tmp_path: Path
) -> None:
    """Newman's set-next-request fixture calls the legacy lodash global ``_`` (lodash 3 in Postman's
    sandbox): o365check has it too (tools/fetch_script_libraries.py), so the whole chain runs alike."""
    if not libraries.available() and os.environ.get("CI") == "true":
        pytest.fail("the script libraries are not built: run `python tools/fetch_script_libraries.py` (make does)")
    base_url, app = echo
    source = _corpus("newman-integration", "set-next-request.postman_collection.json")
    collection = tmp_path / source.name
    collection.write_text(rewrite_echo_urls(_read_text(source), base_url), encoding="utf-8")
    newman_run, newman_log, ours, our_log = _run_both_logged(newman, app, collection, [], tmp_path)

    assert newman_run.exit_code == 0 and newman_run.variables == {"method": "headers", "count": "4"}
    assert [path for _, path in newman_log] == ["/post", "/get", "/type/html", "/headers"]
    assert our_log == newman_log
    assert ours.exit_code == 0 and ours.variables == newman_run.variables
