"""Microsoft's own Graph collection, app-only part, against the sandbox with its own scripts (issue 4).

Its "Application | Get App-Only Access Token" request stores the token with the legacy
``postman.setEnvironmentVariable`` + ``responseBody`` in a test script; the app-only requests then
send ``Authorization: Bearer {{AppAccessToken}}``. In the collection the token request is the last
item of the Application folder, so (as in Postman) the second iteration is the one whose requests
carry the token stored by the first. The "addDays" pre-request script fails per item, and the run goes on.
"""

from __future__ import annotations

import pytest
from corpus import corpus_path

from o365check.http import build_session
from o365check.postman import events as ev
from o365check.postman import load_collection, load_environment
from o365check.postman.runner import CollectionRun, RunConfig
from o365check.sandbox import Sandbox

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def corpus():
    return corpus_path("microsoftgraph")


def run_graph(corpus, folders, iterations=1):
    box = Sandbox("ok")
    session = build_session(sandbox=box)
    seen = []
    session.hooks["response"].append(
        lambda r, *a, **k: seen.append(
            (r.request.method, r.request.url, r.request.headers.get("Authorization", ""), r.status_code)
        )
    )
    collection = load_collection(corpus / "Microsoft Graph.postman_collection.json")
    environment = load_environment(corpus / "Microsoft Graph environment.postman2.1_environment.json")
    credentials = {
        "TenantID": box.credentials["tenant_id"],
        "ClientID": box.credentials["client_id"],
        "ClientSecret": box.credentials["client_secret"],
    }
    run = CollectionRun(
        collection,
        RunConfig(environment=environment, env_vars=credentials, folders=folders, iterations=iterations),
        session=session,
    )
    events = list(run.events())
    return run, events, seen, box


def test_app_only_token_is_stored_by_the_collections_own_script_and_sent_next(corpus):
    run, events, seen, box = run_graph(corpus, ["Users", "Get App-Only Access Token"], iterations=2)
    token_posts = [s for s in seen if s[1].endswith("/oauth2/v2.0/token")]
    assert [s[3] for s in token_posts] == [200, 200]
    stored = run.scopes.scopes["environment"]["AppAccessToken"]
    assert stored.count(".") == 2  # the JWT the sandbox issued, stored by postman.setEnvironmentVariable
    # "Users" also names a folder of the delegated part ("On Behalf of a User"): keep the app-only requests.
    graph = [s for s in seen if "graph.microsoft.com" in s[1] and "UserAccessToken" not in s[2]]
    first, second = graph[: len(graph) // 2], graph[len(graph) // 2 :]
    assert first and all(s[2] == "Bearer {{AppAccessToken}}" for s in first)  # not stored yet: sent verbatim
    assert second and all(s[2].startswith("Bearer ey") for s in second)  # iteration 2 sends the stored token
    assert all(s[3] != 401 for s in second)  # the sandbox accepted the token it issued
    assert not any(isinstance(e, ev.ScriptFailed) for e in events)


def test_add_days_scripts_run_with_sugar_as_in_newman(corpus):
    # `new Date().addDays(7)` is Sugar's; postman-sandbox has Sugar, so Newman runs these scripts
    run, events, seen, box = run_graph(corpus, ["Events"])
    assert not [e for e in events if isinstance(e, ev.ScriptFailed)]
    assert "NextWeek" in run.scopes.scopes["environment"]
    assert isinstance(events[-1], ev.RunCompleted) and not events[-1].aborted
