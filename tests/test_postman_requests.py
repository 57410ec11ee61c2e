"""Variables (precedence, nested, dynamic, unresolved) and request building (runner-facts §5)."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

from o365check.postman.loading import parse_collection
from o365check.postman.model import Body, KeyValue, Request, Url
from o365check.postman.requests_builder import build_request
from o365check.postman.variables import VariableScopes


def scopes(**layers: dict) -> VariableScopes:
    return VariableScopes(
        globals_=layers.get("globals"),
        collection=layers.get("collection"),
        environment=layers.get("environment"),
        data=layers.get("data"),
        local=layers.get("local"),
    )


def test_precedence_local_data_environment_collection_globals() -> None:
    layers = {
        "globals": {"v": "g"},
        "collection": {"v": "c"},
        "environment": {"v": "e"},
        "data": {"v": "d"},
        "local": {"v": "l"},
    }
    order = ["local", "data", "environment", "collection", "globals"]
    for drop in range(len(order)):
        s = scopes(**{k: v for k, v in layers.items() if k in order[drop:]})
        assert s.resolve("{{v}}") == layers[order[drop]]["v"]


def test_nested_references_and_values_holding_references() -> None:
    s = scopes(environment={"inner": "B", "outerB": "found", "url": "{{host}}/x", "host": "http://h"})
    assert s.resolve("{{outer{{inner}}}}") == "found"
    assert s.resolve("{{url}}") == "http://h/x"


def test_unresolved_kept_verbatim_and_reported() -> None:
    missing: set[str] = set()
    s = scopes(environment={"a": "1"})
    assert s.resolve("{{a}}-{{nope}}-{{$notDynamic}}", missing) == "1-{{nope}}-{{$notDynamic}}"
    assert missing == {"nope", "$notDynamic"}


def test_dynamic_variables() -> None:
    s = scopes()
    guid = s.resolve("{{$guid}}")
    assert uuid.UUID(guid) and s.resolve("{{$guid}}") != guid
    assert abs(int(s.resolve("{{$timestamp}}")) - time.time()) < 5  # seconds, not milliseconds
    assert 0 <= int(s.resolve("{{$randomInt}}")) <= 1000
    assert re.match(r"\d{4}-\d\d-\d\dT", s.resolve("{{$isoTimestamp}}"))
    assert "@" in s.resolve("{{$randomEmail}}")
    assert scopes(environment={"$guid": "mine"}).resolve("{{$guid}}") == "mine"  # a defined variable wins
    assert s.resolve("/users?$select=id") == "/users?$select=id"  # `$` outside {{...}} is plain text


def test_values_are_shown_as_javascript_would() -> None:
    s = scopes(environment={"t": True, "n": 1.0, "o": {"a": 1}})
    assert s.resolve("{{t}} {{n}} {{o}}") == 'true 1 {"a":1}'


def test_url_from_components_raw_ignored_with_warning() -> None:
    url = Url(
        raw="http://IGNORED/raw",
        protocol="https",
        host=["real", "example"],
        path=["p", ":id"],
        query=[KeyValue("a", "{{v}}"), KeyValue("off", "1", disabled=True)],
        variables=[KeyValue("id", "{{v}}")],
    )
    built = build_request(Request(url=url), scopes(environment={"v": "42"}))
    assert built.url == "https://real.example/p/42?a=42"
    assert any("disagrees" in w for w in built.warnings)


def test_raw_only_url_and_host_variable_holding_a_base() -> None:
    s = scopes(environment={"base": "http://127.0.0.1:9", "u": "me"})
    assert (
        build_request(Request(url=Url(raw="{{base}}/v1.0/users/{{u}}?$select=id")), s).url
        == "http://127.0.0.1:9/v1.0/users/me?$select=id"
    )
    assert build_request(Request(url=Url(host=["{{base}}"], path=["x"])), s).url == "http://127.0.0.1:9/x"
    assert build_request(Request(url=Url(raw="example.com/a")), s).url == "http://example.com/a"


def test_disabled_headers_dropped_and_body_content_types() -> None:
    s = scopes(environment={"secret": "p+q&r"})
    request = Request(
        method="post",
        url=Url(raw="http://h/"),
        headers=[KeyValue("X-On", "1"), KeyValue("X-Off", "0", disabled=True)],
        body=Body("urlencoded", fields=[KeyValue("client_secret", "{{secret}}"), KeyValue("gone", "x", disabled=True)]),
    )
    built = build_request(request, s)
    assert built.method == "POST"
    assert [k for k, _ in built.headers] == ["X-On", "Content-Type"]
    assert built.body == b"client_secret=p%2Bq%26r"
    assert built.header("content-type") == "application/x-www-form-urlencoded"
    get = Request(method="GET", url=Url(raw="http://h/"), body=Body("raw", raw='{"a": "{{secret}}"}', language="json"))
    pruned = build_request(get, s)  # postman-runtime prunes bodies on GET/HEAD/COPY/PURGE/UNLOCK
    assert pruned.body is None and pruned.header("Content-Type") is None
    raw = build_request(get, s, behaviour={"disableBodyPruning": True})
    assert raw.method == "GET" and json.loads(raw.body) == {"a": "p+q&r"}  # unless disableBodyPruning
    assert raw.header("Content-Type") == "application/json"


def test_formdata_text_and_file_and_graphql(tmp_path: Path) -> None:
    (tmp_path / "up.txt").write_text("file content")
    body = Body(
        "formdata",
        fields=[KeyValue("t", "{{v}}"), KeyValue("f", type="file", src="up.txt"), KeyValue("x", "no", disabled=True)],
    )
    built = build_request(
        Request(method="POST", url=Url(raw="http://h/"), body=body), scopes(environment={"v": "V"}), base_dir=tmp_path
    )
    boundary = built.header("Content-Type").split("boundary=")[1]
    assert built.body.count(boundary.encode()) == 3
    assert b'name="t"\r\n\r\nV' in built.body and b"file content" in built.body and b'name="x"' not in built.body
    gql = build_request(
        Request(
            method="POST",
            url=Url(raw="http://h/"),
            body=Body("graphql", graphql={"query": "{ me }", "variables": '{"a": "{{v}}"}'}),
        ),
        scopes(environment={"v": "V"}),
    )
    assert json.loads(gql.body) == {"query": "{ me }", "variables": {"a": "V"}}
    missing = build_request(
        Request(method="POST", url=Url(raw="http://h/"), body=Body("file", file_src="nope.bin")),
        scopes(),
        base_dir=tmp_path,
    )
    assert missing.body is None and any("nope.bin" in w for w in missing.warnings)


def test_string_request_and_headers_string_from_a_collection() -> None:
    c = parse_collection(
        {
            "info": {"name": "c"},
            "item": [{"name": "a", "request": {"url": "http://h/{{p}}", "header": "A: 1\nB: {{p}}"}}],
        }
    )
    built = build_request(c.items[0].request, scopes(environment={"p": "z"}))
    assert built.url == "http://h/z" and built.headers == [("A", "1"), ("B", "z")]
