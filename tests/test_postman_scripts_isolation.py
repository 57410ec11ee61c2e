"""Scripts cannot reach files or the network, nor run past their time or memory limit; corpus scripts."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from corpus import CORPUS

from o365check.postman import libraries
from o365check.postman.scripts import ScriptContext, ScriptEngine

GRAPH_COLLECTION = CORPUS / "microsoftgraph" / "Microsoft Graph.postman_collection.json"


def _context(listen: str = "test", body: str = "{}", **scopes: dict[str, Any]) -> ScriptContext:
    response = {
        "code": 200,
        "status": "OK",
        "headers": [{"key": "Content-Type", "value": "application/json"}],
        "body": body,
        "responseTime": 5,
        "responseSize": len(body),
    }
    return ScriptContext(
        listen=listen,
        info={"requestName": "r", "iteration": 0},
        request={"url": "https://graph.microsoft.com/v1.0/users", "method": "GET", "headers": []},
        response=response if listen == "test" else None,
        scopes=scopes,
    )


# postman-sandbox logs this on any use of the legacy `postman` object (measured with Newman 6.2.2)
LEGACY_POSTMAN_WARNING = (
    "warn",
    'Using "postman.setNextRequest" is deprecated. Use "pm.execution.setNextRequest()" instead.',
)


@pytest.fixture(scope="module")
def engine() -> Iterator[ScriptEngine]:
    with ScriptEngine(timeout_ms=300, memory_mb=64) as eng:
        yield eng


# ---- no files, no network ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "message"),
    [
        # postman-sandbox's require('fs') is browserify's empty module; other Node modules do not exist
        (
            "require('fs').readFileSync('/etc/passwd')",
            "not a function (line 1: require('fs').readFileSync('/etc/passwd'))",
        ),
        ("require('child_process')", "Cannot find module 'child_process'"),
        ("process.env.HOME", "process.env is not supported by o365check"),
        ("fetch('https://example.com/')", "fetch is not supported by o365check"),
        ("new XMLHttpRequest()", "XMLHttpRequest is not supported by o365check"),
    ],
)
def test_file_and_network_apis_fail_by_name(engine: ScriptEngine, source: str, message: str) -> None:
    out = engine.run(source, _context())
    assert out.error is not None and out.error.message == message


def test_the_global_object_has_no_module_loader_or_network(engine: ScriptEngine) -> None:
    # The names above are our stubs; underneath, QuickJS without its std/os modules has none of them.
    out = engine.run(
        """
        var g = new Function('return this')();
        pm.environment.set('types', ['require', 'process', 'fetch', 'XMLHttpRequest', 'WebSocket', 'Deno', 'Bun']
            .map(function (name) { return typeof g[name]; }));
    """,
        _context(),
    )
    assert out.scopes["environment"]["types"] == ["undefined"] * 7


def test_dynamic_import_cannot_load_modules(engine: ScriptEngine) -> None:
    out = engine.run("await import('fs');", _context())
    assert out.error is not None and out.error.message == "could not load module 'fs'"


# ---- time limit --------------------------------------------------------------------------------
def test_endless_loop_is_stopped_at_the_time_limit(engine: ScriptEngine) -> None:
    started = time.monotonic()
    out = engine.run("pm.test('before', () => {});\nwhile (true) {}", _context())
    elapsed = time.monotonic() - started
    assert out.error is not None and out.error.name == "TimeoutError"
    assert "time limit of 300 ms" in out.error.message and "--timeout-script" in out.error.message
    assert 0.25 < elapsed < 2.0
    assert [t.name for t in out.tests] == ["before"]
    # The engine stays usable for the next script of the run.
    assert engine.run("pm.test('next', () => {});", _context()).tests[0].passed


def test_endless_loop_inside_a_callback_is_stopped(engine: ScriptEngine) -> None:
    out = engine.run("setTimeout(function () { for (;;) {} }, 1);", _context())
    assert out.error is not None and out.error.name == "TimeoutError"


def test_endless_timer_chain_is_stopped_without_a_time_limit() -> None:
    with ScriptEngine(timeout_ms=None) as eng:
        out = eng.run("function again() { setTimeout(again, 0); }\nagain();", _context())
    assert out.error is not None and "more than 10000 callbacks" in out.error.message


def test_time_waiting_for_send_request_is_not_script_time() -> None:
    def slow_send(request: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.4)
        return {"code": 200, "status": "OK", "headers": [], "body": "", "responseTime": 400, "responseSize": 0}

    with ScriptEngine(timeout_ms=300, send_request=slow_send) as eng:
        out = eng.run("pm.sendRequest('https://x/', (e, r) => pm.environment.set('code', r.code));", _context())
    assert out.error is None and out.scopes["environment"] == {"code": 200}


# ---- memory limit ------------------------------------------------------------------------------
def test_huge_allocation_is_stopped_at_the_memory_limit() -> None:
    ctx = _context(environment={"kept": "yes"})
    # A time limit far above the ~100 ms the allocation needs, so a loaded machine tests memory, not speed.
    with ScriptEngine(timeout_ms=10_000, memory_mb=64) as engine:
        out = engine.run(
            "pm.environment.set('lost', 1);\nvar a = [];\nwhile (true) { a.push(new Array(100000).fill(1.5)); }", ctx
        )
        assert out.error is not None and out.error.name == "RangeError"
        assert out.error.message == "script used more than the memory limit of 64 MB"
        assert out.scopes["environment"] == {"kept": "yes"}  # a stopped isolate's changes are not trusted
        after = engine.run("pm.environment.set('after', 1);", ctx)
    assert after.error is None and after.scopes["environment"] == {"kept": "yes", "after": 1}


# ---- the Microsoft Graph corpus ----------------------------------------------------------------
def _graph_items() -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], path: str) -> None:
        for child in node.get("item", []):
            here = f"{path}/{child['name']}"
            items[here] = child
            walk(child, here)

    walk(json.loads(GRAPH_COLLECTION.read_text(encoding="utf-8-sig")), "")
    return items


def _script(item: dict[str, Any], listen: str) -> str:
    event = next(e for e in item["event"] if e["listen"] == listen)
    lines = event["script"]["exec"]
    return "\n".join(line.rstrip("\r") for line in lines) if isinstance(lines, list) else lines


@pytest.mark.corpus
def test_graph_app_only_token_request_stores_app_access_token(engine: ScriptEngine) -> None:
    source = _script(_graph_items()["/Application/Get App-Only Access Token"], "test")
    body = json.dumps({"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0eXAi.sandbox.token"})
    ctx = _context(body=body, environment={"ClientID": "app", "ClientSecret": "s3cret", "TenantID": "contoso"})
    out = engine.run(source, ctx)
    assert out.error is None and out.console == [LEGACY_POSTMAN_WARNING]  # it uses postman.setEnvironmentVariable
    assert out.scopes["environment"]["AppAccessToken"] == "eyJ0eXAi.sandbox.token"


@pytest.mark.corpus
def test_graph_token_script_explains_missing_settings_on_the_console(engine: ScriptEngine) -> None:
    source = _script(_graph_items()["/Application/Get App-Only Access Token"], "test")
    out = engine.run(
        source,
        _context(body='{"access_token": "t"}', environment={"ClientID": "", "ClientSecret": "x", "TenantID": "t"}),
    )
    assert out.console == [("log", "You need to enter *ClientID* environment variable first."), LEGACY_POSTMAN_WARNING]


@pytest.mark.corpus
def test_graph_add_days_script_runs_with_sugar_as_in_newman(engine: ScriptEngine) -> None:
    """``new Date().addDays(7)`` is Sugar's, which postman-sandbox loads for every script (Newman 6.2.2
    runs it); o365check loads Sugar for a script that calls one of its methods."""
    if not libraries.available():
        pytest.skip("script libraries not built") if os.environ.get("CI") != "true" else pytest.fail("not built")
    items = _graph_items()
    add_days = [
        path
        for path, item in items.items()
        if any("addDays" in _script(item, e["listen"]) for e in item.get("event", []) if "script" in e)
    ]
    assert add_days, "the corpus should contain the addDays script"
    for path in add_days:
        out = engine.run(_script(items[path], "prerequest"), _context("prerequest"))
        assert out.error is None, path
        assert {"Today", "NextWeek"} <= set(out.scopes["environment"])


def test_a_method_that_does_not_exist_fails_naming_the_line(engine: ScriptEngine) -> None:
    # QuickJS does not name the callee: the failing line is shown so the message stays clear.
    out = engine.run("var today = new Date();\nvar next = today.addFortnights(1);", _context("prerequest"))
    assert out.error is not None and (out.error.name, out.error.line) == ("TypeError", 2)
    assert out.error.message == "not a function (line 2: var next = today.addFortnights(1);)"


@pytest.mark.corpus
def test_graph_subscription_validation_test_script(engine: ScriptEngine) -> None:
    source = _script(_graph_items()["/Misc/Subscription Validation"], "test")
    ctx = ScriptContext(
        listen="test",
        info={},
        request={"url": "https://x/notify?validationToken=tok%2B1", "method": "POST", "headers": []},
        response={
            "code": 200,
            "status": "OK",
            "headers": [{"key": "Content-Type", "value": "text/plain; charset=utf-8"}],
            "body": "tok+1",
            "responseTime": 1,
            "responseSize": 5,
        },
    )
    out = engine.run(source, ctx)
    assert out.error is None
    assert [(t.name, t.passed) for t in out.tests] == [
        ("Status test", True),
        ("Content type test", True),
        ("Response body test", True),
    ]


@pytest.mark.corpus
def test_every_corpus_script_runs_to_an_outcome(engine: ScriptEngine) -> None:
    """No corpus script crashes the engine: each ends passed, failed or with a named JS error."""
    files = sorted(CORPUS.glob("microsoftgraph/*.postman_collection.json")) + sorted(CORPUS.glob("newman-*/**/*.json"))
    scripts = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        stack = [data] if isinstance(data, dict) else []
        while stack:
            node = stack.pop()
            for event in node.get("event") or []:
                script = event.get("script") if isinstance(event, dict) else None
                if not isinstance(script, dict):
                    continue
                lines = script.get("exec") or []
                source = "\n".join(lines) if isinstance(lines, list) else lines
                if source.strip():
                    scripts.append((event.get("listen"), source))
            stack.extend(child for child in node.get("item") or [] if isinstance(child, dict))
    errors = set()
    for listen, source in scripts:
        out = engine.run(source, _context("test" if listen == "test" else "prerequest"))
        if out.error is not None:
            errors.add(out.error.name)
    assert len(scripts) > 150
    # TimeoutError: Newman's own timeout fixture busy-waits 300 ms, exactly this engine's limit.
    assert errors <= {"TypeError", "ReferenceError", "NotSupportedError", "JSONError", "SyntaxError", "TimeoutError"}
    if libraries.available():  # lodash, CryptoJS, tv4... are the sandbox's own libraries
        assert "NotSupportedError" not in errors
    assert "TypeError" in errors  # addDays


def test_scripts_run_on_a_thread_with_a_running_asyncio_loop():
    """A Jupyter kernel's main thread always runs an asyncio loop; timed scripts must still run there."""
    import asyncio

    from o365check.postman.scripts import ScriptContext, ScriptEngine

    async def inside_a_loop():
        with ScriptEngine(timeout_ms=1000) as engine:
            return engine.run(
                "pm.test('runs', () => pm.expect(1).to.equal(1));",
                ScriptContext(
                    "test",
                    {},
                    {"url": "http://x.example/", "method": "GET", "headers": []},
                    {"code": 200, "status": "OK", "headers": [], "body": "", "responseTime": 1, "responseSize": 0},
                    {},
                ),
            )

    outcome = asyncio.run(inside_a_loop())
    assert outcome.error is None and [(t.name, t.passed) for t in outcome.tests] == [("runs", True)]


def test_memory_limit_under_a_running_asyncio_loop_restarts_the_isolate():
    import asyncio

    from o365check.postman.scripts import ScriptContext, ScriptEngine

    context = ScriptContext("prerequest", {}, {"url": "http://x.example/", "method": "GET", "headers": []}, None, {})

    async def inside_a_loop():
        with ScriptEngine(timeout_ms=5000, memory_mb=32) as engine:
            blown = engine.run("const a = []; while (true) { a.push(new Array(1e6).fill(1)); }", context)
            after = engine.run("pm.environment.set('still', 'works');", context)
            return blown, after

    blown, after = asyncio.run(inside_a_loop())
    assert blown.error is not None and "memory" in blown.error.message
    assert after.error is None and after.scopes["environment"]["still"] == "works"


# ---- QuickJS specifics: limits hit inside async code or a test, use from another thread ---------
def test_endless_loop_after_an_await_is_stopped(engine: ScriptEngine) -> None:
    # QuickJS turns the interrupt inside an async function into a rejection; it must still stop.
    out = engine.run("await new Promise(r => setTimeout(r, 1));\nwhile (true) {}", _context())
    assert out.error is not None and out.error.name == "TimeoutError"


def test_memory_limit_hit_inside_a_test_stops_the_script() -> None:
    with ScriptEngine(timeout_ms=10_000, memory_mb=64) as engine:  # memory, not speed, on a loaded machine
        out = engine.run(
            "pm.test('big', () => { const a = []; while (true) a.push(new Array(1e5).fill(1)); });",
            _context(environment={"kept": "yes"}),
        )
    assert out.error is not None and out.error.message == "script used more than the memory limit of 64 MB"
    assert out.tests == [] and out.scopes["environment"] == {"kept": "yes"}


def test_engine_made_on_one_thread_runs_scripts_on_another() -> None:
    import threading

    outcomes = []
    with ScriptEngine(timeout_ms=1000) as eng:
        eng.run("pm.environment.set('here', 1);", _context())
        worker = threading.Thread(
            target=lambda: outcomes.append(
                eng.run(
                    "function depth(n) { return n ? depth(n - 1) + 1 : 0 }\npm.environment.set('d', depth(300));",
                    _context(),
                )
            )
        )
        worker.start()
        worker.join()
        back = eng.run("pm.environment.set('back', 1);", _context())
    assert outcomes[0].error is None and outcomes[0].scopes["environment"] == {"d": 300}
    assert back.error is None and back.scopes["environment"] == {"back": 1}
