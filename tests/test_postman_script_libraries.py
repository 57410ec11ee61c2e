"""The Postman sandbox's libraries in scripts, variables set to undefined, locals kept for the run, and
pm.sendRequest's request definitions: fast unit tests (the Newman comparison is in
test_newman_conformance.py, collection tests/conformance/libraries.postman_collection.json)."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
from postman_echo import echo_session

from o365check.postman import events as ev
from o365check.postman import libraries
from o365check.postman.loading import parse_collection
from o365check.postman.reporters.json_report import JsonReporter
from o365check.postman.runner import CollectionRun, RunConfig
from o365check.postman.scripts import ScriptContext, ScriptEngine
from o365check.postman.summary import RunSummary
from o365check.postman.variables import UNDEFINED, VariableScopes, js_string


@pytest.fixture(scope="module")
def built() -> None:
    """The bundles exist; in CI a missing build is a failure, not a skip."""
    if not libraries.available():
        message = "script libraries not built: run `python tools/fetch_script_libraries.py` (make install does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _context(listen: str = "test", body: str = '{"a": 1}', **scopes: dict[str, Any]) -> ScriptContext:
    response = {"code": 200, "status": "OK", "headers": [], "body": body, "responseTime": 3, "responseSize": len(body)}
    return ScriptContext(
        listen=listen,
        info={"eventName": listen, "iteration": 0, "iterationCount": 1, "requestName": "r", "requestId": "id"},
        request={"url": "http://h.example/p", "method": "GET", "headers": []},
        response=response if listen == "test" else None,
        scopes=scopes,
    )


# ---- which bundles a script needs ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("pm.test('x', () => pm.expect(pm.response.code).to.equal(200)); console.log(pm.environment.has('a'));", set()),
        ("const moment = require('moment');", {"moment"}),
        ('var q = require("csv-parse/lib/sync");', {"csv-parse/lib/sync"}),
        ("require('left-pad')", set()),  # unknown: require() throws "Cannot find module", nothing to load
        ("_.each([1], f); CryptoJS.MD5('x'); Buffer.from('a');", {"@legacy/lodash3", "crypto-js", "buffer"}),
        ("my_.x; obj.CryptoJS; lodash_", set()),  # not the globals
        ("tests['t'] = responseBody.has('ok');", {"@legacy/sugar"}),
        ("new Date().isToday()", {"@legacy/sugar"}),
    ],
)
def test_bundles_needed_by_a_script(built: None, source: str, expected: set[str]) -> None:
    assert libraries.needed_by(source) == expected


def test_a_computed_require_parses_only_the_library_it_asks_for(built: None) -> None:
    source = "const name = ['lo', 'dash'].join(''); pm.environment.set('v', require(name).VERSION);"
    assert libraries.requires_computed_name(source) and libraries.needed_by(source) == set()
    assert not libraries.requires_computed_name("require('moment'); pm.require('x')")
    with ScriptEngine() as engine:
        out = engine.run(source, _context())
        assert out.error is None and out.scopes["environment"]["v"] == "4.17.21"
        assert engine._loaded == set() and engine._offered == set(libraries.REQUIRE_NAMES)


def test_a_run_that_uses_no_library_loads_none(built: None) -> None:
    with ScriptEngine() as engine:
        engine.run("pm.environment.set('x', [1, 2].map(n => n * 2));", _context())
        assert engine._loaded == set()
        out = engine.run(
            "const moment = require('moment'); pm.environment.set('y', moment.utc(0).format('YYYY'));", _context()
        )
        assert out.error is None and out.scopes["environment"]["y"] == "1970"
        assert engine._loaded == {"moment"}


# ---- require() and the legacy globals ------------------------------------------------------------
def test_require_gives_the_same_module_to_every_script_and_redeclaring_it_works(built: None) -> None:
    with ScriptEngine() as engine:
        engine.run("require('lodash').__o365marker = 7;", _context())
        out = engine.run(
            "const lodash = require('lodash'); const moment = require('moment');\n"
            "pm.environment.set('v', [lodash.__o365marker, lodash.VERSION, typeof moment.utc]);",
            _context(),
        )
    assert out.error is None and out.scopes["environment"]["v"] == [7, "4.17.21", "function"]


def test_redeclaring_a_sandbox_global_is_a_syntax_error_as_in_newman(built: None) -> None:
    with ScriptEngine() as engine:
        out = engine.run("const _ = require('lodash');", _context())
        assert out.error is not None and out.error.name == "SyntaxError"
        ok = engine.run(
            "var _ = require('lodash'); const require2 = require; pm.environment.set('v', _.VERSION);", _context()
        )
    assert ok.error is None and ok.scopes["environment"]["v"] == "4.17.21"


def test_unknown_module_fails_as_browserify_does(built: None) -> None:
    with ScriptEngine() as engine:
        out = engine.run("require('left-pad');", _context())
    assert out.error is not None and (out.error.name, out.error.message) == ("Error", "Cannot find module 'left-pad'")


def test_without_the_bundles_a_library_fails_naming_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libraries, "available", lambda: {})
    with ScriptEngine() as engine:
        required = engine.run("require('moment');", _context())
        legacy = engine.run("CryptoJS.MD5('x');", _context())
    for out in (required, legacy):
        assert out.error is not None and out.error.name == "NotSupportedError"
        assert "tools/fetch_script_libraries.py" in out.error.message


def test_legacy_globals_are_the_sandbox_libraries_and_warn_once(built: None) -> None:
    source = (
        "tests['lodash 3'] = _.VERSION === '3.10.2' && _.VERSION === '3.10.2';\n"
        "tests['CryptoJS'] = CryptoJS.SHA1('abc').toString() === 'a9993e364706816aba3e25717850c26c9cd0d89d';\n"
        "tests['xml2Json'] = xml2Json('<a><b>1</b></a>').a.b === '1';\n"
        "tests['Sugar'] = responseBody.has('\"a\"');\n"
        "tests['legacy request'] = request.name === 'r' && request.id === 'id';\n"
        "console.clear();"
    )
    with ScriptEngine() as engine:
        out = engine.run(source, _context())
    assert out.error is None
    assert {t.name: t.passed for t in out.tests} == dict.fromkeys(
        ["lodash 3", "CryptoJS", "xml2Json", "Sugar", "legacy request"], True
    )
    warnings = [text for level, text in out.console if level == "warn"]
    assert warnings.count('Using "_" is deprecated. Use "require(\'lodash\')" instead.') == 1
    assert 'Using "tests" is deprecated. Use "pm.test()" instead.' in warnings


def test_intervals_and_immediates_run_in_due_order(built: None) -> None:
    source = (
        "const seen = []; let n = 0;\n"
        "const id = setInterval(() => { seen.push('i' + (++n)); if (n === 3) { clearInterval(id); } }, 10);\n"
        "setTimeout(() => seen.push('t25'), 25); setImmediate(() => seen.push('now'));\n"
        "setTimeout(() => pm.environment.set('seen', seen), 100);"
    )
    with ScriptEngine() as engine:
        out = engine.run(source, _context())
    assert out.error is None and out.scopes["environment"]["seen"] == ["now", "i1", "i2", "t25", "i3"]


# ---- variables set to undefined ----------------------------------------------------------------
def test_undefined_is_stored_as_newman_stores_it() -> None:
    with ScriptEngine() as engine:
        first = engine.run(
            "const j = pm.response.json();\n"
            "pm.environment.set('e', j.missing); pm.variables.set('l', j.missing); pm.variables.set('k', 'K');\n"
            "pm.test('same script', () => { pm.expect(pm.environment.has('e')).to.equal(true);"
            " pm.expect(pm.variables.replaceIn('[{{e}}]')).to.equal('[]'); });",
            _context(),
        )
        assert first.scopes["environment"] == {"e": None} and first.scopes["local"] == {"l": UNDEFINED, "k": "K"}
        second = engine.run(
            "pm.test('next script', () => { pm.expect(pm.environment.get('e')).to.equal(null);"
            " pm.expect(pm.variables.has('l')).to.equal(true);"
            " pm.expect(pm.variables.replaceIn('{{e}}|{{l}}|{{k}}')).to.equal('null||K'); });",
            _context(**first.scopes),
        )
    assert [(t.name, t.passed, t.error) for t in first.tests + second.tests] == [
        ("same script", True, None),
        ("next script", True, None),
    ]


def test_null_resolves_to_null_and_undefined_to_nothing_in_requests() -> None:
    assert (js_string(None), js_string(UNDEFINED), repr(UNDEFINED)) == ("null", "", "undefined")
    scopes = VariableScopes(environment={"n": None}, local={"u": UNDEFINED})
    assert scopes.resolve("a={{n}}&b={{u}}") == "a=null&b="


# ---- the runner: locals, pm.sendRequest ---------------------------------------------------------
def _run(items: list[dict[str, Any]]) -> tuple[list[ev.Event], RunSummary, Any, str]:
    session, echo = echo_session()
    collection = parse_collection({"info": {"name": "c"}, "item": items})
    events = list(CollectionRun(collection, RunConfig(), session=session).events())
    summary, out = RunSummary(), io.StringIO()
    reporter = JsonReporter(out, summary)
    for event in events:
        summary.handle(event)
        reporter.handle(event)
    return events, summary, echo, out.getvalue()


def _item(name: str, url: str, listen: str, lines: list[str]) -> dict[str, Any]:
    return {"name": name, "request": url, "event": [{"listen": listen, "script": {"exec": lines}}]}


def test_local_variables_are_kept_for_later_requests() -> None:
    _, _, echo, _ = _run(
        [
            _item("set", "http://api.example/a", "test", ["pm.variables.set('loc', 'L1');"]),
            _item(
                "use",
                "http://api.example/b?loc={{loc}}",
                "prerequest",
                ["pm.test('seen', () => pm.variables.get('loc') === 'L1');"],
            ),
        ]
    )
    assert echo.requests[1]["args"] == {"loc": "L1"}


def test_send_request_reads_newmans_request_definition() -> None:
    script = [
        "pm.sendRequest({url: 'http://api.example/form?x={{not_resolved}}', method: 'post', header: 'X-A: 1\\nX-B: 2',",
        "  body: {mode: 'urlencoded', urlencoded: [{key: 'k', value: 'v'}, {key: 'off', value: '1', disabled: true}]},",
        "  auth: {type: 'basic', basic: [{key: 'username', value: 'u'}, {key: 'password', value: 'p'}]}}, (e, r) => {",
        "  pm.environment.set('first', [r.code, r.json().form]);",
        "  pm.sendRequest({url: 'http://api.example/raw', method: 'PUT', header: {'X-Obj': 'o'},",
        "    body: {mode: 'graphql', graphql: {query: '{ a }', variables: '{\"v\": 1}'}},",
        "    auth: {type: 'apikey', apikey: [{key: 'key', value: 'k'}, {key: 'value', value: 'secretvalue'}, {key: 'in', value: 'query'}]}},",
        "    (e2, r2) => pm.environment.set('second', r2.code));",
        "  pm.sendRequest({url: 'http://api.example/file', method: 'POST', body: {mode: 'file', file: {src: '/etc/passwd'}}}, () => {});",
        "});",
    ]
    events, summary, echo, report = _run([_item("item", "http://api.example/main", "prerequest", script)])
    first, second, third, main = echo.requests
    assert (first["method"], first["path"], first["args"]) == ("POST", "/form", {"x": "{{not_resolved}}"})
    assert first["headers"]["x-b"] == "2" and first["headers"]["authorization"] == "Basic dTpw"
    assert first["form"] == {"k": "v"}
    assert (second["method"], second["args"], second["headers"]["x-obj"]) == ("PUT", {"k": "secretvalue"}, "o")
    assert json.loads(second["body"]) == {"query": "{ a }", "variables": {"v": 1}}
    assert (third["path"], third["body"]) == ("/file", "")  # files are not uploaded from scripts (postman-runtime)
    assert main["path"] == "/main"
    assert ev.ConsoleLogged("item", "warn", "uploading files from scripts is not allowed") in events
    assert summary.stats["requests"]["total"] == 4
    sent = [e.url for e in events if isinstance(e, ev.RequestSent)]
    assert sent[-1] == "http://api.example/main" and len(sent) == 4
    assert len(json.loads(report)["run"]["executions"]) == 4
    assert "secretvalue" not in report and "dTpw" not in report  # credentials from the script are masked


def test_json_report_lists_an_item_once_per_request_as_newman_does() -> None:
    script = [
        "pm.sendRequest('http://api.example/side', (e, r) => pm.test('side', () => pm.expect(r.code).to.equal(200)));"
    ]
    _, _, _, report = _run([_item("item", "http://api.example/main", "test", script)])
    executions = json.loads(report)["run"]["executions"]
    assert len(executions) == 2 and executions[0] == executions[1]
    assert executions[0]["request"]["url"]["path"] == ["side"]  # the item's last request, as in Newman
    assert [a["assertion"] for a in executions[0]["assertions"]] == ["side"]


def test_a_failed_send_request_reaches_the_callback_and_the_report() -> None:
    script = [
        "pm.sendRequest('http://127.0.0.1:9/x', (err, res) => pm.environment.set('err', err ? err.name : 'none'));"
    ]
    session, _ = echo_session()
    session.adapters.clear()  # nothing mounted: requests refuses the URL scheme

    collection = parse_collection(
        {"info": {"name": "c"}, "item": [_item("item", "http://api.example/a", "prerequest", script)]}
    )
    run = CollectionRun(collection, RunConfig(), session=session)
    events = list(run.events())
    failed = [e for e in events if isinstance(e, ev.RequestFailed)]
    assert failed and failed[0].url == "http://127.0.0.1:9/x"
    assert run.scopes.scopes["environment"]["err"] not in ("none", None)


# ---- the build tool ------------------------------------------------------------------------------
def _tool() -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "tools" / "fetch_script_libraries.py"
    spec = importlib.util.spec_from_file_location("fetch_script_libraries", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lock_file_pins_what_postman_sandbox_pins_and_a_change_is_refused() -> None:
    tool = _tool()
    lock = json.loads((tool.SPEC_DIR / "package-lock.json").read_text(encoding="utf-8"))
    tool.check_lock_pins(lock)  # the committed lock agrees with the table
    assert tool.PINNED["moment"][0] == "2.30.1" and tool.PINNED["postman-sandbox"][0] == "4.7.1"
    lock["packages"]["node_modules/moment"]["integrity"] = "sha512-tampered"
    with pytest.raises(tool.BuildError, match="moment"):
        tool.check_lock_pins(lock)


def test_built_bundles_carry_their_licences(built: None) -> None:
    from importlib import resources

    folder = resources.files("o365check.postman") / "js" / "libs"
    licences = (folder / "THIRD-PARTY-LICENSES.txt").read_text(encoding="utf-8")
    for package in ("lodash@4.17.21", "moment@2.30.1", "crypto-js@3.3.0", "postman-sandbox@4.7.1", "cheerio@0.22.0"):
        assert f"==== {package} ====" in licences
    assert set(libraries.REQUIRE_NAMES) <= set(libraries.available())


def test_legacy_environment_object_follows_the_legacy_setters() -> None:
    with ScriptEngine() as engine:
        out = engine.run(
            "postman.setEnvironmentVariable('n', 5); postman.clearEnvironmentVariable('gone');\n"
            "tests['legacy object follows'] = environment.n === '5' && !('gone' in environment);",
            _context(environment={"gone": "x"}),
        )
    assert [(t.name, t.passed) for t in out.tests] == [("legacy object follows", True)]
    assert out.scopes["environment"] == {"n": "5"}


def test_send_request_carrying_a_secret_to_another_host_is_refused_and_reported() -> None:
    script = [
        "pm.sendRequest({url: 'http://api.example/leak', method: 'POST',",
        "  body: {mode: 'urlencoded', urlencoded: [{key: 's', value: pm.environment.get('client_secret')}]}},",
        "  (err, res) => pm.environment.set('refused', err ? err.name : 'sent'));",
    ]
    session, echo = echo_session()
    collection = parse_collection(
        {
            "info": {"name": "c"},
            "variable": [{"key": "client_secret", "value": "canary-s3cret-value"}],
            "item": [_item("item", "http://api.example/main", "prerequest", script)],
        }
    )
    run = CollectionRun(collection, RunConfig(), session=session)
    run.scopes.scopes["environment"]["client_secret"] = "canary-s3cret-value"
    events = list(run.events())
    refused = [e for e in events if isinstance(e, ev.RequestFailed)]
    # The sendRequest carries the secret; the item's own request follows a pre-request script that read
    # it, so it is held to identity hosts too (the egress rule, docs/architecture.md "Transport").
    assert [(e.kind, e.url) for e in refused] == [
        ("secret-routing", "http://api.example/leak"),
        ("secret-routing", "http://api.example/main"),
    ]
    assert run.scopes.scopes["environment"]["refused"] == "SecretRoutingError"
    assert echo.requests == []  # the secret never left
