"""The runner's behaviour: corpus collections give Newman's results, run order, options, events."""

from __future__ import annotations

import pytest
from corpus import corpus_path
from postman_echo import echo_session

from o365check.postman import events as ev
from o365check.postman import runner as runner_module
from o365check.postman.loading import (
    load_collection,
    load_environment,
    load_globals,
    load_iteration_data,
    parse_collection,
)
from o365check.postman.runner import CollectionRun, RunConfig
from o365check.postman.summary import RunSummary

N = corpus_path("newman-integration")


def run(collection, config=None):
    session, echo = echo_session()
    events = list(CollectionRun(collection, config or RunConfig(), session=session).events())
    summary = RunSummary()
    for e in events:
        summary.handle(e)
    return events, summary, echo


# Newman's own integration fixtures pass in Newman against postman-echo; they must pass here too.
CONFORMANCE = {
    "disabled-and-duplicates": (
        "disabled-and-duplicate-variables/disabled-and-duplicates.postman_collection.json",
        "disabled-and-duplicate-variables/disabled-and-duplicates.postman_environment.json",
        None,
        None,
    ),
    "globals-env-data-files": (
        "globals-env-data-files/globals-env-data-files.postman_collection.json",
        "globals-env-data-files/globals-env-data-files.postman_environment.json",
        "globals-env-data-files/globals-env-data-files.postman_globals.json",
        "globals-env-data-files/globals-env-data-files.postman_data.json",
    ),
    "comma-test-csv": (
        "comma-test-csv/comma-test-csv.postman_collection.json",
        None,
        None,
        "comma-test-csv/comma-test-csv.postman_data.csv",
    ),
    "csv-with-bom": (
        "csv-with-bom/csv-with-bom.postman_collection.json",
        None,
        None,
        "csv-with-bom/csv-with-bom.postman_data.csv",
    ),
    "bom-in-environment": (
        "bom-and-encoding/bom-in-environment-file.postman_collection.json",
        "bom-and-encoding/bom-in-environment-file.postman_environment.json",
        None,
        None,
    ),
    "utf16-environment": (
        "bom-and-encoding/utf16-le-encoding-in-env.postman_collection.json",
        "bom-and-encoding/utf16-le-encoding-in-env.postman_environment.json",
        None,
        None,
    ),
    "data-file-var-replacement": (
        "data-file-var-replacement/data-file-var-replacement.postman_collection.json",
        "data-file-var-replacement/data-file-var-replacement.postman_environment.json",
        None,
        "data-file-var-replacement/data-file-var-replacement.postman_data.json",
    ),
    "inherited-entities": (
        "inherited-entities/inherited-entities.postman_collection.json",
        "inherited-entities/inherited-entities.postman_environment.json",
        None,
        None,
    ),
    "multi-level-folders": ("multi-level-folders-v2.postman_collection.json", None, None, None),
    "request-chaining": ("request-chaining-test.postman_collection.json", None, None, None),
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", CONFORMANCE)
def test_newman_fixture_passes_as_in_newman(name: str) -> None:
    collection, environment, globals_, data = CONFORMANCE[name]
    config = RunConfig(
        environment=load_environment(N / environment) if environment else None,
        globals=load_globals(N / globals_) if globals_ else None,
        iteration_data=load_iteration_data(N / data) if data else None,
    )
    events, summary, _ = run(load_collection(N / collection), config)
    assert summary.exit_code == 0, [(f.kind, f.title, f.message) for f in summary.failures]
    assert summary.stats["assertions"]["total"] > 0 and summary.stats["assertions"]["failed"] == 0
    if data:
        assert summary.stats["iterations"]["total"] == len(load_iteration_data(N / data))


def collection_with_scripts(*items: tuple[str, list[str]]) -> dict:
    return {
        "info": {"name": "order"},
        "item": [
            {
                "name": name,
                "request": f"http://api.example/{name}",
                "event": [{"listen": "test", "script": {"exec": lines}}],
            }
            for name, lines in items
        ],
    }


def test_set_next_request_jumps_and_null_ends_the_iteration() -> None:
    doc = collection_with_scripts(
        ("a", ["pm.execution.setNextRequest('c')"]), ("b", []), ("c", ["pm.execution.setNextRequest(null)"]), ("d", [])
    )
    events, summary, echo = run(parse_collection(doc), RunConfig(iterations=2))
    assert [r["path"] for r in echo.requests] == ["/a", "/c"] * 2


def test_script_order_collection_folder_request() -> None:
    doc = {
        "info": {"name": "o"},
        "event": [{"listen": "prerequest", "script": {"exec": "pm.environment.set('trail', 'C')"}}],
        "item": [
            {
                "name": "F",
                "event": [
                    {
                        "listen": "prerequest",
                        "script": {"exec": "pm.environment.set('trail', pm.environment.get('trail') + 'F')"},
                    }
                ],
                "item": [
                    {
                        "name": "r",
                        "request": "http://api.example/{{trail}}",
                        "event": [
                            {
                                "listen": "prerequest",
                                "script": {"exec": "pm.environment.set('trail', pm.environment.get('trail') + 'R')"},
                            }
                        ],
                    }
                ],
            }
        ],
    }
    _, summary, echo = run(parse_collection(doc))
    assert echo.requests[0]["path"] == "/CFR" and summary.stats["prerequestScripts"]["total"] == 3


def test_scripts_that_cannot_run_are_reported_not_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        runner_module, "_load_script_engine", lambda *a: (None, "the JavaScript engine is not available (test)")
    )
    doc = collection_with_scripts(("a", ["pm.test('x', function () {})"]), ("b", ["pm.test('y', function () {})"]))
    events, summary, echo = run(parse_collection(doc))
    not_run = [e for e in events if isinstance(e, ev.ScriptNotRun)]
    assert [(e.item, e.listen) for e in not_run] == [("a", "test"), ("b", "test")]
    assert len(echo.requests) == 2 and summary.exit_code == 1
    assert summary.stats["testScripts"]["pending"] == 2


def test_bail_stops_after_the_first_failure_and_folder_selects() -> None:
    doc = {
        "info": {"name": "b"},
        "item": [
            {
                "name": "F1",
                "item": [
                    {
                        "name": "fails",
                        "request": "http://api.example/status/500",
                        "event": [
                            {
                                "listen": "test",
                                "script": {"exec": "pm.test('ok', function () { pm.response.to.have.status(200); });"},
                            }
                        ],
                    }
                ],
            },
            {"name": "F2", "item": [{"name": "later", "request": "http://api.example/later"}]},
        ],
    }
    events, summary, echo = run(parse_collection(doc), RunConfig(bail=True, iterations=3))
    assert [r["path"] for r in echo.requests] == ["/status/500"]
    completed = [e for e in events if isinstance(e, ev.RunCompleted)][0]
    assert completed.aborted and "--bail" in completed.reason
    _, summary, echo = run(parse_collection(doc), RunConfig(folders=["F2"]))
    assert [r["path"] for r in echo.requests] == ["/later"]
    events, _, echo = run(parse_collection(doc), RunConfig(folders=["nope"]))
    assert echo.requests == [] and any(isinstance(e, ev.WarningIssued) and "nope" in e.message for e in events)


def test_event_order_for_one_item_and_unresolved_report() -> None:
    doc = collection_with_scripts(("a", ["pm.test('t', function () {})"]))
    doc["item"][0]["request"] = "http://api.example/{{missing}}"
    events, _, _ = run(parse_collection(doc))
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "RunStarted",
        "IterationStarted",
        "ItemStarted",
        "VariablesUnresolved",
        "RequestSent",
        "ResponseReceived",
        "ScriptRan",
        "TestPassed",
        "ItemCompleted",
        "IterationCompleted",
        "RunCompleted",
    ]
    assert next(e for e in events if isinstance(e, ev.VariablesUnresolved)).names == ("missing",)


def test_connection_failure_is_exit_3_and_bad_url_is_reported_not_raised() -> None:
    import requests

    doc = {"info": {"name": "c"}, "item": [{"name": "down", "request": "http://127.0.0.1:9/x"}]}
    events = list(
        CollectionRun(parse_collection(doc), RunConfig(timeout_request_ms=2000), session=requests.Session()).events()
    )
    summary = RunSummary()
    for e in events:
        summary.handle(e)
    failed = [e for e in events if isinstance(e, ev.RequestFailed)]
    assert failed and failed[0].kind == "connect" and summary.exit_code == 3
    doc = {"info": {"name": "c"}, "item": [{"name": "bad", "request": "http://[bad/x"}]}
    events = list(CollectionRun(parse_collection(doc), session=requests.Session()).events())
    summary = RunSummary()
    for e in events:
        summary.handle(e)
    assert "not a URL" in next(e for e in events if isinstance(e, ev.RequestFailed)).message
    assert [e.kind for e in events if isinstance(e, ev.RequestFailed)] == ["error"] and summary.exit_code == 1


test_connection_failure_is_exit_3_and_bad_url_is_reported_not_raised = pytest.mark.block_network(
    allowed_hosts=["127.0.0.1"]
)(test_connection_failure_is_exit_3_and_bad_url_is_reported_not_raised)


def test_delay_between_requests_and_whole_run_timeout() -> None:
    import time

    doc = {"info": {"name": "t"}, "item": [{"name": f"r{i}", "request": f"http://api.example/{i}"} for i in range(3)]}
    started = time.perf_counter()
    _, summary, echo = run(parse_collection(doc), RunConfig(delay_request_ms=50))
    assert len(echo.requests) == 3 and time.perf_counter() - started >= 0.1  # two pauses, none before the first
    events, summary, echo = run(parse_collection(doc), RunConfig(delay_request_ms=60, timeout_ms=50))
    completed = [e for e in events if isinstance(e, ev.RunCompleted)][0]
    assert completed.aborted and "--timeout" in completed.reason and len(echo.requests) < 3


def test_env_var_and_global_var_options_override_files() -> None:
    doc = {"info": {"name": "v"}, "item": [{"name": "r", "request": "http://api.example/{{a}}/{{g}}"}]}
    from o365check.postman.model import Variable, VariableFile

    config = RunConfig(
        environment=VariableFile("e", [Variable("a", "file")]), env_vars={"a": "cli"}, global_vars={"g": "G"}
    )
    _, _, echo = run(parse_collection(doc), config)
    assert echo.requests[0]["path"] == "/cli/G"


def test_an_error_of_ours_from_the_transport_is_a_request_failure() -> None:
    import requests

    from o365check.errors import ReplayMismatchError

    class Refusing(requests.adapters.BaseAdapter):
        def send(self, request, **kwargs):  # what a replayed cassette does for an unrecorded request
            raise ReplayMismatchError("c.yaml", f"GET {request.url}", None, [])

        def close(self) -> None:
            pass

    session = requests.Session()
    session.mount("http://", Refusing())
    doc = {"info": {"name": "r"}, "item": [{"name": "r", "request": "http://api.example/x"}]}
    events = list(CollectionRun(parse_collection(doc), session=session).events())
    summary = RunSummary()
    for e in events:
        summary.handle(e)
    failed = [e for e in events if isinstance(e, ev.RequestFailed)]
    assert failed[0].kind == "input" and "no recorded answer" in failed[0].message and summary.exit_code == 2
