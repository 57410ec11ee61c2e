"""Reporters: Newman's JSON shape, JUnit structure, secret masking everywhere, streaming memory."""

from __future__ import annotations

import base64
import io
import json
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests
from corpus import corpus_path
from postman_echo import echo_session
from requests.structures import CaseInsensitiveDict

from o365check.postman.command import RunOptions, run_collection_cli
from o365check.postman.loading import parse_collection
from o365check.postman.reporters.json_report import JsonReporter
from o365check.postman.runner import CollectionRun, RunConfig
from o365check.postman.summary import RunSummary

CANARY = 'Canary+Secret/1=x&y"z'
LOGIN = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token"


def canary_forms() -> list[str]:
    return [
        CANARY,
        quote_plus(CANARY),
        quote(CANARY, safe=""),
        json.dumps(CANARY)[1:-1],
        base64.b64encode(f"app:{CANARY}".encode()).decode(),
        "tok-1-abcdefgh",
        "right-secret",
    ]


def write(tmp_path: Path, name: str, doc: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def leaky_collection() -> dict:
    """Sends the canary (form body, Basic) to the identity host, logs it, stores and uses a token."""
    form = [
        {"key": "client_id", "value": "app"},
        {"key": "client_secret", "value": "{{client_secret}}"},
        {"key": "grant_type", "value": "client_credentials"},
    ]
    return {
        "info": {"name": "leaky"},
        "item": [
            {
                "name": "token",
                "request": {"method": "POST", "url": LOGIN, "body": {"mode": "urlencoded", "urlencoded": form}},
                "event": [
                    {
                        "listen": "test",
                        "script": {
                            "exec": [
                                "console.log('secret is ' + pm.environment.get('client_secret'));",
                                "pm.test('leaks in the name ' + pm.environment.get('client_secret'), function () { pm.expect(1).to.equal(2); });",
                            ]
                        },
                    }
                ],
            },
            {
                "name": "basic",
                "request": {
                    "method": "GET",
                    "url": LOGIN + "?x={{client_secret}}",
                    "auth": {
                        "type": "basic",
                        "basic": [
                            {"key": "username", "value": "app"},
                            {"key": "password", "value": "{{client_secret}}"},
                        ],
                    },
                },
                # Stored by a script that reads no secret: a value stored by the token item's script,
                # which does, would count as derived from the secret (postman/secret_routing.py).
                "event": [
                    {
                        "listen": "test",
                        "script": {"exec": ["pm.environment.set('access_token', 'tok-1-' + 'abcdefgh');"]},
                    }
                ],
            },
            {
                "name": "graph",
                "request": {
                    "method": "GET",
                    "url": "https://graph.microsoft.com/v1.0/me",
                    "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{access_token}}"}]},
                },
                "event": [
                    {
                        "listen": "test",
                        "script": {"exec": ["pm.test('ok', function () { pm.response.to.have.status(200); });"]},
                    }
                ],
            },
        ],
    }


def test_canary_secret_appears_in_no_report_export_or_log(tmp_path: Path) -> None:
    env = write(
        tmp_path, "env.json", {"values": [{"key": "client_secret", "value": CANARY, "type": "secret", "enabled": True}]}
    )
    col = write(tmp_path, "c.json", leaky_collection())
    out, err = io.StringIO(), io.StringIO()
    files = {n: tmp_path / n for n in ("report.json", "report.xml", "exported.json")}
    options = RunOptions(
        col,
        environment=env,
        reporters=["cli", "json", "junit"],
        reporter_json_export=str(files["report.json"]),
        reporter_junit_export=str(files["report.xml"]),
        export_environment=str(files["exported.json"]),
        no_color=True,
    )
    session, echo = echo_session()
    assert run_collection_cli(options, out, err, session=session) == 1
    assert CANARY in echo.requests[0]["form"]["client_secret"]  # it was really sent, to the identity host
    outputs = {"stdout": out.getvalue(), "stderr": err.getvalue(), **{n: p.read_text() for n, p in files.items()}}
    report = json.loads(outputs["report.json"])
    for execution in report["run"]["executions"]:  # response bodies are bytes in the report: decode them too
        outputs[f"body of {execution['item']['name']}"] = bytes(execution["response"]["stream"]["data"]).decode()
    for name, text in outputs.items():
        for form in canary_forms()[:6]:
            assert form not in text, f"{form!r} leaked into {name}"
    assert "secret is ********" in outputs["stdout"]
    assert "Basic ********" in outputs["report.json"]


def test_json_report_has_newmans_shape(tmp_path: Path) -> None:
    col = write(tmp_path, "c.json", leaky_collection())
    path = tmp_path / "r.json"
    session, _ = echo_session()
    run_collection_cli(
        RunOptions(col, reporters=["json"], reporter_json_export=str(path), env_vars=["client_secret=right-secret"]),
        io.StringIO(),
        io.StringIO(),
        session=session,
    )
    report = json.loads(path.read_text())
    assert set(report) >= {"collection", "environment", "globals", "run"}
    run = report["run"]
    assert set(run["stats"]) == {
        "iterations",
        "items",
        "scripts",
        "prerequests",
        "requests",
        "tests",
        "assertions",
        "testScripts",
        "prerequestScripts",
    }
    assert run["stats"]["requests"] == {"total": 3, "pending": 0, "failed": 0}
    assert run["stats"]["assertions"] == {"total": 2, "pending": 0, "failed": 1}
    assert {"responseAverage", "responseMin", "responseMax", "responseSd", "started", "completed"} <= set(
        run["timings"]
    )
    names = [e["item"]["name"] for e in run["executions"]]
    assert names == ["token", "basic", "graph"]
    first = run["executions"][0]
    assert first["request"]["method"] == "POST" and first["request"]["url"]["host"] == [
        "login",
        "microsoftonline",
        "com",
    ]
    assert first["response"]["code"] == 200 and first["response"]["stream"]["type"] == "Buffer"
    assert first["assertions"][0]["assertion"].startswith("leaks in the name")
    assert first["assertions"][0]["error"]["message"] == "expected 1 to equal 2"
    assert run["failures"][0]["source"]["name"] == "token" and run["failures"][0]["error"]["name"] == "AssertionError"


@pytest.mark.corpus
def test_json_report_has_every_key_of_newmans_own_sample_report(tmp_path: Path) -> None:
    col = write(tmp_path, "c.json", leaky_collection())
    path = tmp_path / "r.json"
    session, _ = echo_session()
    run_collection_cli(
        RunOptions(col, reporters=["json"], reporter_json_export=str(path), env_vars=["client_secret=right-secret"]),
        io.StringIO(),
        io.StringIO(),
        session=session,
    )
    run = json.loads(path.read_text())["run"]
    first = run["executions"][0]
    sample = json.loads(corpus_path("newman-examples", "reports", "sample-collection-report.json").read_text())
    assert set(sample["run"]["stats"]) <= set(run["stats"])
    assert {"item", "request", "response", "assertions", "cursor", "id"} <= set(first)
    assert set(sample["run"]["executions"][0]["response"]) - {"_details"} <= set(first["response"])


def test_junit_has_one_suite_per_request_and_one_case_per_test(tmp_path: Path) -> None:
    col = write(tmp_path, "c.json", leaky_collection())
    path = tmp_path / "r.xml"
    session, _ = echo_session()
    run_collection_cli(
        RunOptions(
            col,
            reporters=["junit"],
            reporter_junit_export=str(path),
            env_vars=["client_secret=right-secret"],
            iterations=2,
        ),
        io.StringIO(),
        io.StringIO(),
        session=session,
    )
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("name") == "leaky"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        f"{n} (iteration {i})" for i in (1, 2) for n in ("token", "basic", "graph")
    ]
    assert [len(s.findall("testcase")) for s in suites] == [1, 0, 1] * 2
    failure = suites[0].find("testcase/failure")
    assert failure is not None and failure.text == "expected 1 to equal 2"
    assert root.get("tests") == "4" and root.get("failures") == "2"


class FixedAdapter(requests.adapters.BaseAdapter):
    """Answers every request with the same small JSON, as fast as possible."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response.reason = 200, "OK"
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response._content = b'{"value": "' + b"x" * 400 + b'"}'
        response.url, response.request = request.url, request
        return response

    def close(self) -> None:
        pass


def _peak_bytes(iterations: int, tmp_path: Path) -> int:
    doc = {
        "info": {"name": "m"},
        "item": [
            {
                "name": f"r{i}",
                "request": {
                    "method": "POST",
                    "url": "https://api.example/x",
                    "body": {"mode": "raw", "raw": '{"n": "{{$guid}}"}'},
                },
            }
            for i in range(2)
        ],
    }
    session = requests.Session()
    session.mount("https://", FixedAdapter())
    summary = RunSummary()
    with open(tmp_path / f"r{iterations}.json", "w", encoding="utf-8") as stream:
        reporter = JsonReporter(stream, summary)
        tracemalloc.start()
        for event in CollectionRun(parse_collection(doc), RunConfig(iterations=iterations), session=session).events():
            summary.handle(event)
            reporter.handle(event)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        reporter.close()
    assert (
        json.loads((tmp_path / f"r{iterations}.json").read_text())["run"]["stats"]["requests"]["total"]
        == 2 * iterations
    )
    return peak


def test_json_report_streams_so_memory_does_not_grow_with_iterations(tmp_path: Path) -> None:
    small, large = _peak_bytes(50, tmp_path), _peak_bytes(400, tmp_path)
    # 350 more iterations would hold ~1 MB of executions if kept; streaming keeps the peak flat.
    assert large - small < 200_000, (small, large)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_report_lists_requests_tests_summary_and_numbered_failures(tmp_path: Path) -> None:
    col = write(tmp_path, "c.json", leaky_collection())
    out = io.StringIO()
    session, _ = echo_session()
    assert (
        run_collection_cli(
            RunOptions(col, env_vars=["client_secret=right-secret"], no_color=True), out, io.StringIO(), session=session
        )
        == 1
    )
    text = out.getvalue()
    assert "→ token" in text and "POST https://login.microsoftonline.com/contoso/oauth2/v2.0/token [200 OK, " in text
    assert "✓  ok" in text and "  1. leaks in the name ********" in text
    assert "│              iterations │        1 │        0 │" in text
    assert "│              assertions │        2 │        1 │" in text
    assert " 1. AssertionError" in text and "expected 1 to equal 2" in text and "at request 'token'" in text
    assert "\x1b[" not in text  # --no-color


def test_progress_bar_only_at_a_terminal_on_long_runs(tmp_path: Path) -> None:
    col = write(tmp_path, "c.json", {"info": {"name": "p"}, "item": [{"name": "r", "request": "http://api.example/x"}]})
    for stream, iterations, expect_bar in ((Terminal(), 60, True), (io.StringIO(), 60, False), (Terminal(), 3, False)):
        session, _ = echo_session()
        run_collection_cli(
            RunOptions(col, iterations=iterations, no_color=True), stream, io.StringIO(), session=session
        )
        text = stream.getvalue()
        assert ("\r[" in text) is expect_bar
        assert (text.count("→ r") == iterations) is not expect_bar
        assert "│              iterations │" in text
