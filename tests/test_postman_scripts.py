"""The pm API, Chai-style expect and legacy globals, run in the embedded engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from o365check.postman.scripts import ScriptContext, ScriptEngine, ScriptOutcome


def _response(
    code: int = 200,
    status: str = "OK",
    body: str = '{"id": 7, "items": [1, 2, 3]}',
    headers: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "status": status,
        "body": body,
        "responseTime": 12,
        "responseSize": len(body),
        "headers": headers if headers is not None else [{"key": "Content-Type", "value": "application/json"}],
    }


def _context(listen: str = "test", response: dict[str, Any] | None = None, **scopes: dict[str, Any]) -> ScriptContext:
    return ScriptContext(
        listen=listen,
        info={"eventName": listen, "iteration": 2, "iterationCount": 3, "requestName": "Send mail", "requestId": "r1"},
        request={
            "url": "https://graph.example/v1.0/users/a@b/sendMail?validationToken=abc%20d&x=1",
            "method": "POST",
            "headers": [{"key": "Content-Type", "value": "application/json"}],
            "body": {"mode": "raw", "raw": "{}"},
        },
        response=(response or _response()) if listen == "test" else None,
        scopes=scopes,
    )


@pytest.fixture(scope="module")
def engine() -> Iterator[ScriptEngine]:
    with ScriptEngine(timeout_ms=2000) as eng:
        yield eng


def run(engine: ScriptEngine, source: str, context: ScriptContext | None = None) -> ScriptOutcome:
    return engine.run(source, context or _context())


def verdicts(outcome: ScriptOutcome) -> dict[str, tuple[bool, str | None]]:
    return {t.name: (t.passed, t.error) for t in outcome.tests}


# ---- pm.test -------------------------------------------------------------------------------
def test_pm_test_records_passes_failures_and_skips_in_call_order(engine: ScriptEngine) -> None:
    out = run(
        engine,
        """
        pm.test("passes", function () { pm.expect(1).to.equal(1); });
        pm.test("fails", () => { pm.expect(401).to.equal(202); });
        pm.test.skip("skipped", () => { throw new Error("never runs"); });
        pm.test("throws a TypeError", () => { null.x; });
    """,
    )
    assert [t.name for t in out.tests] == ["passes", "fails", "skipped", "throws a TypeError"]
    passes, fails, skipped, throws = out.tests
    assert passes.passed and not passes.failed
    assert fails.failed and fails.error == "expected 401 to equal 202"
    assert skipped.skipped and not skipped.failed and not skipped.passed
    assert throws.failed and throws.error.startswith("TypeError: cannot read property 'x' of null")
    assert out.error is None  # a failing test is not a script error


def test_pm_test_with_done_callback_and_async_function(engine: ScriptEngine) -> None:
    out = run(
        engine,
        """
        pm.test("done ok", function (done) { done(); });
        pm.test("done err", function (done) { done(new Error("bad")); });
        pm.test("done never", function (done) { });
        pm.test("async rejects", async () => { await null; pm.expect(1).to.equal(2); });
    """,
    )
    assert verdicts(out) == {
        "done ok": (True, None),
        "done err": (False, "Error: bad"),
        "done never": (False, "test did not call done()"),
        "async rejects": (False, "expected 1 to equal 2"),
    }


# ---- pm.expect chains ----------------------------------------------------------------------
PASSING = [
    "pm.expect(2).to.equal(2)",
    "pm.expect({a: [1]}).to.eql({a: [1]})",
    "pm.expect({a: 1}).to.deep.equal({a: 1})",
    "pm.expect('hello').to.include('ell')",
    "pm.expect([1, 2]).to.contain(2)",
    "pm.expect({a: 1, b: 2}).to.include({a: 1})",
    "pm.expect([{a: 1}]).to.deep.include({a: 1})",
    "pm.expect({a: {b: 1}}).to.have.property('a').that.has.property('b', 1)",
    "pm.expect({a: {b: 1}}).to.have.nested.property('a.b', 1)",
    "pm.expect('s').to.be.a('string')",
    "pm.expect([]).to.be.an('array')",
    "pm.expect({}).to.be.an('object')",
    "pm.expect(null).to.be.a('null')",
    "pm.expect(1).to.be.ok",
    "pm.expect(true).to.be.true",
    "pm.expect(false).to.be.false",
    "pm.expect(null).to.be.null",
    "pm.expect(undefined).to.be.undefined",
    "pm.expect(0).to.exist",
    "pm.expect('').to.be.empty",
    "pm.expect({}).to.be.empty",
    "pm.expect(5).to.be.above(4)",
    "pm.expect(5).to.be.below(6)",
    "pm.expect(5).to.be.at.least(5)",
    "pm.expect(5).to.be.at.most(5)",
    "pm.expect(5).to.be.within(1, 5)",
    "pm.expect([1, 2]).to.have.lengthOf(2)",
    "pm.expect('abc').to.have.length.above(2)",
    "pm.expect('abc').to.match(/b/)",
    "pm.expect(202).to.be.oneOf([200, 202])",
    "pm.expect([1, 2]).to.have.members([2, 1])",
    "pm.expect([1, 2, 3]).to.include.members([3])",
    "pm.expect([{a: 1}]).to.have.deep.members([{a: 1}])",
    "pm.expect({a: 1, b: 2}).to.have.keys('a', 'b')",
    "pm.expect({a: 1, b: 2}).to.have.any.keys('a', 'z')",
    "pm.expect({a: 1, b: 2}).to.include.keys('a')",
    "pm.expect(1).to.not.equal(2)",
    "pm.expect([1]).to.not.include(2)",
    "pm.expect(undefined).to.not.exist",
    "pm.expect(1).is.a('number').which.is.above(0).and.not.null",
    "pm.expect(2).to.be.been.that.with.at.of.equal(2)",
    "pm.expect(() => { throw new TypeError('x'); }).to.throw(TypeError)",
    "pm.expect(1.05).to.be.closeTo(1, 0.1)",
]


@pytest.mark.parametrize("assertion", PASSING)
def test_expect_chain_passes(engine: ScriptEngine, assertion: str) -> None:
    out = run(engine, f"pm.test('t', () => {{ {assertion}; }});")
    assert verdicts(out) == {"t": (True, None)}


FAILING = [
    ("pm.expect(401).to.equal(202)", "expected 401 to equal 202"),
    ("pm.expect('a').to.equal('b')", "expected 'a' to equal 'b'"),
    ("pm.expect(2).to.not.equal(2)", "expected 2 to not equal 2"),
    ("pm.expect({a: 1}).to.eql({a: 2})", "expected { a: 1 } to deeply equal { a: 2 }"),
    ("pm.expect('hello').to.include('xyz')", "expected 'hello' to include 'xyz'"),
    ("pm.expect([1, 2]).to.include(3)", "expected [ 1, 2 ] to include 3"),
    ("pm.expect({a: 1}).to.have.property('b')", "expected { a: 1 } to have property 'b'"),
    ("pm.expect({a: 1}).to.have.property('a', 2)", "expected { a: 1 } to have property 'a' of 2, but got 1"),
    ("pm.expect(5).to.be.a('string')", "expected 5 to be a string"),
    ("pm.expect(5).to.be.an('object')", "expected 5 to be an object"),
    ("pm.expect(0).to.be.ok", "expected 0 to be truthy"),
    ("pm.expect('true').to.be.true", "expected 'true' to be true"),
    ("pm.expect(0).to.be.false", "expected 0 to be false"),
    ("pm.expect(1).to.be.null", "expected 1 to be null"),
    ("pm.expect(1).to.be.undefined", "expected 1 to be undefined"),
    ("pm.expect(undefined).to.not.be.undefined", "expected undefined not to be undefined"),
    ("pm.expect(null).to.exist", "expected null to exist"),
    ("pm.expect([1]).to.be.empty", "expected [ 1 ] to be empty"),
    ("pm.expect(1).to.be.above(2)", "expected 1 to be above 2"),
    ("pm.expect(3).to.be.below(2)", "expected 3 to be below 2"),
    ("pm.expect(1).to.be.at.least(2)", "expected 1 to be at least 2"),
    ("pm.expect(3).to.be.at.most(2)", "expected 3 to be at most 2"),
    ("pm.expect(9).to.be.within(1, 5)", "expected 9 to be within 1..5"),
    ("pm.expect([1]).to.have.lengthOf(2)", "expected [ 1 ] to have a length of 2 but got 1"),
    ("pm.expect('abc').to.match(/z/)", "expected 'abc' to match /z/"),
    ("pm.expect(401).to.be.oneOf([200, 202])", "expected 401 to be one of [ 200, 202 ]"),
    ("pm.expect([1, 2]).to.have.members([1, 3])", "expected [ 1, 2 ] to have the same members as [ 1, 3 ]"),
    ("pm.expect({a: 1}).to.have.keys('a', 'b')", "expected { a: 1 } to have keys 'a', and 'b'"),
    ("pm.expect(1, 'custom').to.equal(2)", "custom: expected 1 to equal 2"),
]


@pytest.mark.parametrize(("assertion", "message"), FAILING)
def test_expect_chain_fails_with_chai_message(engine: ScriptEngine, assertion: str, message: str) -> None:
    out = run(engine, f"pm.test('t', () => {{ {assertion}; }});")
    assert verdicts(out) == {"t": (False, message)}


def test_long_objects_are_shortened_in_messages(engine: ScriptEngine) -> None:
    out = run(
        engine,
        "pm.test('t', () => pm.expect({success: true, coupon_id: 1, a: 1, b: 2, c: 3}).to.have.property('error'));",
    )
    assert out.tests[0].error == "expected { success: true, coupon_id: 1, …(3) } to have property 'error'"


# ---- pm.response ---------------------------------------------------------------------------
def test_response_fields_and_bodies(engine: ScriptEngine) -> None:
    out = run(
        engine,
        """
        pm.environment.set("seen", [pm.response.code, pm.response.status, pm.response.responseTime,
            pm.response.responseSize, pm.response.json().id, pm.response.text().length,
            pm.response.headers.get("content-type"), pm.response.headers.has("X-Missing")]);
    """,
    )
    assert out.error is None
    assert out.scopes["environment"]["seen"] == [200, "OK", 12, 29, 7, 29, "application/json", False]


RESPONSE_PASSING = [
    "pm.response.to.have.status(200)",
    "pm.response.to.have.status('OK')",
    "pm.response.to.be.ok",
    "pm.response.to.be.success",
    "pm.response.to.not.be.error",
    "pm.response.to.have.header('Content-Type')",
    "pm.response.to.have.header('content-type', 'application/json')",
    "pm.response.to.have.jsonBody('items')",
    "pm.response.to.have.jsonBody('id', 7)",
    "pm.response.to.have.body()",
    "pm.response.to.be.json",
    "pm.response.to.have.body({id: 7, items: [1, 2, 3]})",
    "pm.response.to.have.body(/items/)",
    "pm.response.to.not.have.status(404)",
    "pm.response.to.be.withBody",
    "pm.expect(pm.response.responseTime).to.be.below(200)",
    "pm.response.to.have.responseTime.below(100)",
]


@pytest.mark.parametrize("assertion", RESPONSE_PASSING)
def test_response_assertions_pass(engine: ScriptEngine, assertion: str) -> None:
    assert verdicts(run(engine, f"pm.test('t', () => {{ {assertion}; }});")) == {"t": (True, None)}


RESPONSE_FAILING = [
    ("pm.response.to.have.status(202)", "expected response to have status code 202 but got 401"),
    (
        "pm.response.to.have.status('Accepted')",
        "expected response to have status reason 'Accepted' but got 'Unauthorized'",
    ),
    ("pm.response.to.be.ok", "expected response to have status reason 'OK' but got 'UNAUTHORIZED'"),
    ("pm.response.to.be.success", "expected response code to be 2XX but found 401"),
    ("pm.response.to.not.be.error", "expected response code to not be 4XX or 5XX"),
    ("pm.response.to.have.header('X-Id')", "expected response to have header with key 'X-Id'"),
    ("pm.response.to.have.body('nope')", "expected response body to equal 'nope' but got 'denied'"),
    (
        "pm.response.to.have.jsonBody()",
        "expected response body to be a valid json but got error unexpected token: 'denied'",
    ),
]


@pytest.mark.parametrize(("assertion", "message"), RESPONSE_FAILING)
def test_response_assertions_fail_like_newman(engine: ScriptEngine, assertion: str, message: str) -> None:
    ctx = _context(response=_response(401, "Unauthorized", "denied"))
    assert verdicts(run(engine, f"pm.test('t', () => {{ {assertion}; }});", ctx)) == {"t": (False, message)}


def test_response_error_is_true_for_4xx(engine: ScriptEngine) -> None:
    ctx = _context(response=_response(403, "Forbidden", ""))
    out = run(
        engine, "pm.test('e', () => pm.response.to.be.error); pm.test('f', () => pm.response.to.be.forbidden);", ctx
    )
    assert verdicts(out) == {"e": (True, None), "f": (True, None)}


def test_invalid_json_body_names_the_problem(engine: ScriptEngine) -> None:
    out = run(engine, "pm.response.json();", _context(response=_response(body="<html>")))
    assert out.error is not None and out.error.name == "JSONError" and out.error.line == 1


# ---- pm.request, pm.info -------------------------------------------------------------------
def test_request_is_readable_and_prerequest_changes_come_back(engine: ScriptEngine) -> None:
    out = run(
        engine,
        """
        pm.environment.set("seen", [pm.request.method, pm.request.url.toString(), pm.request.url.getHost(),
            pm.request.url.query.get("validationToken"), pm.request.headers.get("content-type"), pm.request.body.raw]);
        pm.request.headers.add({key: "X-Trace", value: "1"});
        pm.request.headers.upsert({key: "Content-Type", value: "text/plain"});
        pm.request.url.query.add({key: "y", value: "a b"});
        pm.request.method = "PUT";
    """,
        _context("prerequest"),
    )
    assert out.error is None
    assert out.scopes["environment"]["seen"] == [
        "POST",
        "https://graph.example/v1.0/users/a@b/sendMail?validationToken=abc%20d&x=1",
        "graph.example",
        "abc d",
        "application/json",
        "{}",
    ]
    assert out.request["method"] == "PUT"
    assert out.request["url"].endswith("?validationToken=abc%20d&x=1&y=a%20b")
    assert out.request["headers"] == [{"key": "Content-Type", "value": "text/plain"}, {"key": "X-Trace", "value": "1"}]
    assert out.request["body"] == {"mode": "raw", "raw": "{}"}


def test_request_url_can_be_replaced_by_a_string(engine: ScriptEngine) -> None:
    out = run(engine, "pm.request.url = 'https://other.example/p?q=1';", _context("prerequest"))
    assert out.request["url"] == "https://other.example/p?q=1"


def test_info_and_no_response_in_prerequest(engine: ScriptEngine) -> None:
    out = run(
        engine,
        """
        pm.environment.set("info", [pm.info.eventName, pm.info.iteration, pm.info.iterationCount,
            pm.info.requestName, pm.info.requestId, typeof pm.response, typeof responseBody, iteration]);
    """,
        _context("prerequest"),
    )
    assert out.scopes["environment"]["info"] == ["prerequest", 2, 3, "Send mail", "r1", "undefined", "undefined", 2]


# ---- variables -----------------------------------------------------------------------------
def test_variables_precedence_local_data_env_collection_globals(engine: ScriptEngine) -> None:
    ctx = _context(
        globals={"v": "g", "onlyG": "G"},
        collectionVariables={"v": "c", "onlyC": "C"},
        environment={"v": "e"},
        iterationData={"v": "d"},
    )
    out = run(
        engine,
        """
        var seen = [pm.variables.get("v")];
        pm.variables.set("v", "local");
        seen.push(pm.variables.get("v"), pm.variables.get("onlyC"), pm.variables.get("onlyG"),
                  pm.variables.has("onlyG"), pm.variables.has("nope"), pm.variables.get("nope"));
        seen.push(pm.variables.toObject());
        pm.globals.set("seen", seen);
    """,
        ctx,
    )
    seen = out.scopes["globals"]["seen"]
    assert seen[:7] == ["d", "local", "C", "G", True, False, None]  # JSON turns undefined into null
    assert seen[7] == {"v": "local", "onlyG": "G", "onlyC": "C"}
    assert out.scopes["local"] == {"v": "local"}


@pytest.mark.parametrize("scope", ["environment", "collectionVariables", "globals", "iterationData"])
def test_scope_get_set_unset_has_toObject_replaceIn(engine: ScriptEngine, scope: str) -> None:
    ctx = _context(**{scope: {"keep": "k", "drop": "d", "host": "graph"}})
    out = run(
        engine,
        f"""
        var s = pm.{scope};
        s.set("added", 5);
        s.unset("drop");
        pm.test("has", () => {{ pm.expect(s.has("keep")).to.be.true; pm.expect(s.has("drop")).to.be.false; }});
        pm.test("get", () => pm.expect(s.get("added")).to.equal(5));
        pm.test("toObject", () => pm.expect(s.toObject()).to.eql({{keep: "k", host: "graph", added: 5}}));
        pm.test("replaceIn", () => pm.expect(s.replaceIn("https://{{{{host}}}}/{{{{nope}}}}")).to.equal("https://graph/{{{{nope}}}}"));
    """,
        ctx,
    )
    assert all(t.passed for t in out.tests), verdicts(out)
    assert out.scopes[scope] == {"keep": "k", "host": "graph", "added": 5}


def test_variables_replace_in_resolves_nested_and_dynamic_variables(engine: ScriptEngine) -> None:
    ctx = _context(environment={"base": "https://{{host}}", "host": "graph.example"})
    out = run(
        engine,
        """
        pm.environment.set("url", pm.variables.replaceIn("{{base}}/x"));
        pm.environment.set("guid", pm.variables.replaceIn("{{$guid}}"));
    """,
        ctx,
    )
    env = out.scopes["environment"]
    assert env["url"] == "https://graph.example/x"
    assert len(env["guid"]) == 36 and env["guid"].count("-") == 4


def test_setting_a_variable_without_a_name_is_a_clear_error(engine: ScriptEngine) -> None:
    out = run(engine, "pm.environment.set('', 1);")
    assert out.error is not None and "variable name must be a non-empty string" in out.error.message


# ---- flow control --------------------------------------------------------------------------
def test_skip_request_and_set_next_request(engine: ScriptEngine) -> None:
    out = run(engine, "pm.execution.skipRequest(); pm.execution.setNextRequest('Get token');", _context("prerequest"))
    assert out.skip_request and out.next_request == "Get token" and out.next_request_set
    out = run(engine, "postman.setNextRequest(null);")
    assert out.next_request is None and out.next_request_set and not out.skip_request
    out = run(engine, "1;")
    assert not out.next_request_set and not out.skip_request


# ---- console -------------------------------------------------------------------------------
def test_console_levels_and_formatting(engine: ScriptEngine) -> None:
    out = run(
        engine, "console.log('a', 1, {b: [true, null]}); console.info('i'); console.warn('w'); console.error('e');"
    )
    assert out.console == [("log", "a 1 { b: [ true, null ] }"), ("info", "i"), ("warn", "w"), ("error", "e")]


# ---- legacy globals ------------------------------------------------------------------------
def test_legacy_globals(engine: ScriptEngine) -> None:
    ctx = _context(environment={"e1": "0"}, globals={"g1": "G"}, iterationData={"d1": "D"})
    out = run(
        engine,
        """
        tests["code"] = responseCode.code === 200 && responseCode.name === "OK";
        tests["body"] = JSON.parse(responseBody).id === 7;
        tests["headers"] = responseHeaders["Content-Type"] === "application/json";
        tests["time"] = responseTime === 12;
        tests["snapshots"] = globals.g1 === "G" && environment.e1 === "0" && data.d1 === "D";
        tests["request"] = request.method === "POST" && request.url.indexOf("sendMail") > 0;
        tests["getResponseHeader"] = postman.getResponseHeader("content-type") === "application/json";
        tests["a failing one"] = false;
        postman.setEnvironmentVariable("n", 5);
        postman.setEnvironmentVariable("zero", 0);
        postman.setGlobalVariable("g2", true);
        postman.clearEnvironmentVariable("e1");
        tests["getEnvironmentVariable"] = postman.getEnvironmentVariable("n") === "5";
    """,
        ctx,
    )
    assert out.error is None
    assert verdicts(out) == {
        "code": (True, None),
        "body": (True, None),
        "headers": (True, None),
        "time": (True, None),
        "snapshots": (True, None),
        "request": (True, None),
        "getResponseHeader": (True, None),
        "a failing one": (False, "expected false to be truthy"),
        "getEnvironmentVariable": (True, None),
    }
    # Legacy setters stringify truthy values (and false) but keep 0, as postman-sandbox does.
    assert out.scopes["environment"] == {"n": "5", "zero": 0}
    assert out.scopes["globals"] == {"g1": "G", "g2": "true"}


def test_legacy_clear_all_variables(engine: ScriptEngine) -> None:
    out = run(
        engine,
        "postman.clearEnvironmentVariables(); postman.clearGlobalVariables();",
        _context(environment={"a": 1}, globals={"b": 2}),
    )
    assert out.scopes["environment"] == {} and out.scopes["globals"] == {}


def test_var_declarations_do_not_leak_between_scripts(engine: ScriptEngine) -> None:
    run(engine, "var leaked = 1; tests.one = true;")
    out = run(engine, "pm.test('fresh', () => pm.expect(typeof leaked).to.equal('undefined')); tests.two = true;")
    assert [t.name for t in out.tests] == ["fresh", "two"] and out.tests[0].passed


# ---- pm.sendRequest ------------------------------------------------------------------------
def test_send_request_calls_back_after_the_script_body() -> None:
    sent: list[dict[str, Any]] = []

    def send(request: dict[str, Any]) -> dict[str, Any]:
        sent.append(request)
        return _response(201, "Created", '{{"echo": "{}"}}'.format(request["url"]))

    with ScriptEngine(timeout_ms=2000, send_request=send) as eng:
        out = eng.run(
            """
            var order = ["start"];
            pm.sendRequest({url: "https://a.example/x", method: "post", header: {"X-A": "1"},
                            body: {mode: "raw", raw: "hi"}}, function (err, res) {
                order.push("callback " + res.code + " " + res.status + " " + res.json().echo);
                pm.test("from callback", () => pm.expect(res.code).to.equal(201));
                pm.sendRequest("https://b.example/y", (err2, res2) => { order.push("nested " + res2.text().length); });
            });
            order.push("end");
            setTimeout(() => pm.environment.set("order", order), 10);
        """,
            _context(),
        )
    assert out.error is None
    assert out.scopes["environment"]["order"] == [
        "start",
        "end",
        "callback 201 Created https://a.example/x",
        "nested 31",
    ]
    assert sent[0] == {
        "url": "https://a.example/x",
        "method": "POST",
        "header": [{"key": "X-A", "value": "1"}],  # Newman's request definition, read by the runner's parser
        "body": {"mode": "raw", "raw": "hi"},
    }
    assert sent[1]["url"] == "https://b.example/y" and sent[1]["method"] == "GET"
    assert verdicts(out) == {"from callback": (True, None)}


def test_send_request_supports_await_and_reports_transport_errors() -> None:
    def send(request: dict[str, Any]) -> dict[str, Any]:
        if "down" in request["url"]:
            raise ConnectionError("connection refused by down.example")
        return _response()

    with ScriptEngine(send_request=send) as eng:
        out = eng.run(
            """
            const res = await pm.sendRequest("https://up.example/");
            pm.environment.set("code", res.code);
            pm.sendRequest("https://down.example/", (err, r) => pm.environment.set("err", err.message + "|" + typeof r));
        """,
            _context(),
        )
    assert out.error is None
    assert out.scopes["environment"] == {"code": 200, "err": "connection refused by down.example|undefined"}


def test_send_request_without_a_sender_fails_by_name(engine: ScriptEngine) -> None:
    out = run(engine, "pm.sendRequest('https://x/', (err) => pm.environment.set('err', err.message));")
    assert out.scopes["environment"]["err"] == "pm.sendRequest is not available in this run"


# ---- errors ---------------------------------------------------------------------------------
def test_runtime_error_reports_message_and_line_within_source(engine: ScriptEngine) -> None:
    out = run(engine, "pm.test('before', () => {});\nvar x = 1;\n\nundefinedFunction();\npm.test('after', () => {});")
    assert out.error is not None
    assert (out.error.name, out.error.message, out.error.line) == (
        "ReferenceError",
        "undefinedFunction is not defined",
        4,
    )
    assert [t.name for t in out.tests] == ["before"]  # work done before the error is kept


def test_syntax_error_reports_line(engine: ScriptEngine) -> None:
    out = run(engine, "var a = 1;\n\nvar b = ;\n")
    assert out.error is not None
    assert (out.error.name, out.error.line) == ("SyntaxError", 3)
    assert "unexpected token" in out.error.message


def test_error_in_a_callback_names_the_line(engine: ScriptEngine) -> None:
    out = run(engine, "setTimeout(function () {\n  nope.x = 1;\n}, 1);")
    assert out.error is not None and out.error.line == 2 and out.error.name == "ReferenceError"


@pytest.mark.parametrize(
    ("source", "api"),
    [
        ("pm.cookies.jar();", "pm.cookies.jar"),
        ("pm.vault.get('x');", "pm.vault.get"),
        ("pm.visualizer.set('<b/>');", "pm.visualizer.set"),
        ("pm.execution.runRequest('x');", "pm.execution.runRequest"),
        ("postman.getResponseCookie('a');", "postman.getResponseCookie"),
    ],
)
def test_unsupported_api_fails_naming_it(engine: ScriptEngine, source: str, api: str) -> None:
    out = run(engine, source)
    assert out.error is not None
    assert out.error.message == f"{api} is not supported by o365check"
    assert out.error.line == 1


def test_bad_context_is_a_clear_error(engine: ScriptEngine) -> None:
    with pytest.raises(ValueError, match="listen must be 'prerequest' or 'test', got 'posttest'"):
        engine.run("1", ScriptContext(listen="posttest", info={}, request={"url": "u", "method": "GET"}))


def test_engine_refuses_to_run_after_close() -> None:
    eng = ScriptEngine()
    eng.close()
    eng.close()  # idempotent
    with pytest.raises(RuntimeError, match="after close"):
        eng.run("1", _context())


def test_invalid_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="timeout_ms"):
        ScriptEngine(timeout_ms=0)
    with pytest.raises(ValueError, match="memory_mb"):
        ScriptEngine(memory_mb=1)


def test_status_code_compares_numbers(engine: ScriptEngine) -> None:
    out = run(
        engine,
        "pm.test('t', () => pm.response.to.have.statusCode('200'));"
        "pm.test('u', () => pm.response.to.have.statusCode(201));",
    )
    assert verdicts(out) == {"t": (True, None), "u": (False, "expected response to have status code 201 but got 200")}
