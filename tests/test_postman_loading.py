"""Loading collections, environments, globals and iteration data (corpus, encodings, bad input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from o365check.errors import CollectionLoadError, UsageError
from o365check.postman.loading import (
    load_collection,
    load_environment,
    load_globals,
    load_iteration_data,
    parse_variable_assignment,
)
from o365check.postman.model import Folder, Item
from o365check.postman.variables import variables_to_dict

ROOT = Path(__file__).parents[1]


def _kind(path: Path) -> str:
    name = path.name
    if "config" in name or "report" in name or "compiled" in name:
        return "skip"
    if "collection" in name:
        return "collection"
    if name.endswith((".csv", "_data.json")):
        return "data"
    if "environment" in name:
        return "environment"
    if "globals" in name:
        return "globals"
    return "collection"


@pytest.mark.corpus
def test_every_corpus_file_loads() -> None:
    """One test over every file, so the collected tests do not depend on the corpus being there."""
    files = [
        p
        for p in sorted(CORPUS.rglob("*.json")) + sorted(CORPUS.rglob("*.csv"))
        if "/schema/" not in str(p) and _kind(p) != "skip"
    ]
    assert len(files) > 30, f"the corpus at {CORPUS} holds only {len(files)} files"
    failures = []
    for path in files:
        kind = _kind(path)
        try:
            if kind == "collection":
                collection = load_collection(path)
                assert collection.name
                assert list(collection.iter_items()) or not collection.items
            elif kind == "environment":
                assert load_environment(path).values
            elif kind == "globals":
                assert load_globals(path).values
            else:
                rows = load_iteration_data(path)
                assert rows and all(isinstance(r, dict) for r in rows)
        except Exception as exc:  # collected, so one run names every file that fails
            failures.append(f"{path.relative_to(CORPUS)}: {exc!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.corpus
def test_microsoft_graph_collection_has_its_requests_and_strips_carriage_returns() -> None:
    collection = load_collection(CORPUS / "microsoftgraph" / "Microsoft Graph.postman_collection.json")
    items = list(collection.iter_items())
    assert len(items) == 168
    token = next(i for i, parents in items if i.name == "Get App-Only Access Token")
    assert token.request.body is not None and token.request.body.mode == "urlencoded"
    assert {f.key for f in token.request.body.fields} >= {"client_id", "client_secret", "grant_type"}
    assert all("\r" not in s.source for i, _ in items for s in i.events)


@pytest.mark.corpus
def test_bom_and_utf16_files_load_like_newman() -> None:
    folder = CORPUS / "newman-integration" / "bom-and-encoding"
    assert load_collection(folder / "bom-in-collection-file.postman_collection.json").items
    utf16 = load_environment(folder / "utf16-le-encoding-in-env.postman_environment.json")
    bom = load_environment(folder / "bom-in-environment-file.postman_environment.json")
    assert utf16.values and bom.values


@pytest.mark.corpus
def test_csv_with_bom_and_quotes() -> None:
    rows = load_iteration_data(CORPUS / "newman-integration" / "comma-test-csv" / "comma-test-csv.postman_data.csv")
    assert rows[0]["nameWithComma"] == "Abhijit, Kane"
    assert rows[0]["nameWithDoubleQuotes"] == 'Abhijit "KDOS" Kane'
    assert rows[0]["spaceAfterComma"] == "foo"
    bom_rows = load_iteration_data(CORPUS / "newman-integration" / "csv-with-bom" / "csv-with-bom.postman_data.csv")
    assert "c1" in bom_rows[0]  # the BOM is not part of the first column name


def test_disabled_true_and_enabled_false_are_both_honoured(tmp_path: Path) -> None:
    env = tmp_path / "e.json"
    env.write_text(
        json.dumps(
            {
                "values": [
                    {"key": "a", "value": "1", "enabled": False},
                    {"key": "b", "value": "2", "disabled": True},
                    {"key": "dup", "value": "first"},
                    {"key": "dup", "value": "second"},
                    {"key": "dup2", "value": "kept"},
                    {"key": "dup2", "value": "off", "disabled": True},
                    {"key": "s", "value": "x", "type": "secret"},
                ]
            }
        )
    )
    loaded = load_environment(env)
    assert variables_to_dict(loaded.values) == {"dup": "second", "dup2": "kept", "s": "x"}
    assert [v.key for v in loaded.values if v.secret] == ["s"]


def test_v20_auth_map_and_v21_auth_list_read_the_same(tmp_path: Path) -> None:
    doc = {
        "info": {"name": "x"},
        "item": [
            {
                "name": "v20",
                "request": {"url": "http://a/", "auth": {"type": "basic", "basic": {"username": "u", "password": "p"}}},
            },
            {
                "name": "v21",
                "request": {
                    "url": "http://a/",
                    "auth": {
                        "type": "basic",
                        "basic": [{"key": "username", "value": "u"}, {"key": "password", "value": "p"}],
                    },
                },
            },
            {"name": "string request", "request": "http://a/b"},
            {"name": "folder", "item": [], "event": {"listen": "test", "script": {"exec": "pm.test('x')"}}},
        ],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    c = load_collection(path)
    v20, v21, plain, folder = c.items
    assert isinstance(v20, Item) and isinstance(folder, Folder)
    assert v20.request.auth == v21.request.auth
    assert plain.request.method == "GET" and plain.request.url.raw == "http://a/b"
    assert folder.events[0].source == "pm.test('x')"


@pytest.mark.parametrize(
    "text, position", [('{"info": {"name": "x"},\n  "item": [,]}', "line 2, column 12"), ("", "line 1, column 1")]
)
def test_broken_json_names_path_and_position(tmp_path: Path, text: str, position: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(CollectionLoadError) as caught:
        load_collection(path)
    assert caught.value.path == str(path) and caught.value.position == position
    assert str(path) in str(caught.value) and position in str(caught.value)


def test_missing_file_and_wrong_encoding(tmp_path: Path) -> None:
    with pytest.raises(CollectionLoadError, match="No such file"):
        load_collection(tmp_path / "nope.json")
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"info": {"name": "caf\xe9"}, "item": []}')
    with pytest.raises(CollectionLoadError) as caught:
        load_collection(bad)
    assert caught.value.position == "byte " + str(bad.read_bytes().index(0xE9))


def test_schema_problems_are_warnings(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(
        json.dumps({"item": [{"name": "a", "request": {"url": 5, "header": "X-A: 1", "body": {"mode": "weird"}}}, 3]})
    )
    c = load_collection(path)
    assert len(c.items) == 1
    assert c.items[0].request.headers[0].key == "X-A"
    assert any("no `info`" in w for w in c.warnings) and any("unknown mode" in w for w in c.warnings)


def test_variable_assignment_parsing() -> None:
    assert parse_variable_assignment("a=b=c") == ("a", "b=c")
    with pytest.raises(UsageError, match="--env-var expects key=value"):
        parse_variable_assignment("novalue")


# -- property test: mutated and truncated inputs give a clean result or CollectionLoadError ------
SEED = json.dumps(json.loads((ROOT / "collections" / "office365-sendmail.postman_collection.json").read_text()))
SEED_ENV = (ROOT / "collections" / "example.postman_environment.json").read_text()
SEED_CSV = 'a,b\n"1, 2",x\n3,"y ""z"""\n'
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "item",
                    "request",
                    "url",
                    "auth",
                    "event",
                    "values",
                    "body",
                    "mode",
                    "info",
                    "key",
                    "value",
                    "type",
                    "exec",
                    "header",
                    "host",
                    "path",
                    "query",
                    "variable",
                    "disabled",
                    "enabled",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def _mutate(data: object, path: list[int], replacement: object) -> object:
    """Replace the node reached by following ``path`` (indexes into dict values / list items)."""
    if not path or not isinstance(data, (dict, list)) or not data:
        return replacement
    keys = list(data.keys()) if isinstance(data, dict) else list(range(len(data)))
    key = keys[path[0] % len(keys)]
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[key] = _mutate(data[key], path[1:], replacement)  # type: ignore[index]
    return copy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(["collection", "environment", "globals", "data-csv", "data-json"]),
    path=st.lists(st.integers(0, 20), max_size=6),
    replacement=json_values,
    cut=st.none() | st.integers(0, 2000),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_loaders_only_raise_collection_load_error(
    tmp_path_factory: pytest.TempPathFactory,
    which: str,
    path: list[int],
    replacement: object,
    cut: int | None,
    encoding: str,
) -> None:
    seed = {
        "collection": SEED,
        "environment": SEED_ENV,
        "globals": SEED_ENV,
        "data-csv": SEED_CSV,
        "data-json": '[{"a": 1}, {"b": "x"}]',
    }[which]
    text = seed if which == "data-csv" else json.dumps(_mutate(json.loads(seed), path, replacement))
    if cut is not None:
        text = text[:cut]
    target = tmp_path_factory.mktemp("fuzz") / "input.json"
    target.write_bytes(text.encode(encoding))
    loader = {"collection": load_collection, "environment": load_environment, "globals": load_globals}.get(
        which, load_iteration_data
    )
    try:
        result = loader(target)
    except CollectionLoadError as exc:
        assert str(target) in str(exc)
        return
    if which == "collection":
        list(result.iter_items())
