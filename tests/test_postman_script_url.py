"""pm.request.url keeps {{variables}} as written, so the runner resolves those a pre-request script
set (found by the Newman conformance test: Newman resolves them after the pre-request scripts)."""

from __future__ import annotations

from o365check.postman.scripts import ScriptContext, ScriptEngine


def _prerequest(url: str) -> ScriptContext:
    return ScriptContext(
        listen="prerequest",
        info={"eventName": "prerequest", "iteration": 0, "iterationCount": 1, "requestName": "r", "requestId": "r"},
        request={"url": url, "method": "GET", "headers": [], "body": None},
        response=None,
        scopes={},
    )


def test_query_variables_survive_the_script_view_and_only_postman_encode_set_is_escaped() -> None:
    with ScriptEngine(timeout_ms=2000) as engine:
        out = engine.run(
            'pm.environment.set("name", "alice"); pm.request.url.query.add({key: "k=1", value: "a b&c\\u00e9"});',
            _prerequest("{{base}}/get?who={{name}}&n={{$randomInt}}"),
        )
    assert out.error is None
    assert out.request["url"] == "{{base}}/get?who={{name}}&n={{$randomInt}}&k%3D1=a%20b%26c%C3%A9"
