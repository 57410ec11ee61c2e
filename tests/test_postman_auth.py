"""Auth inheritance, signing, OAuth 2.0 client-credentials fetching and caching, secret routing."""

from __future__ import annotations

import base64

import pytest
from corpus import corpus_path
from postman_echo import echo_session

from o365check.errors import SecretRoutingError, TokenError
from o365check.postman import events as ev
from o365check.postman.auth import ClientCredentialsTokens, OAuth2Settings, find_effective_auth
from o365check.postman.loading import load_collection, load_environment, parse_collection
from o365check.postman.model import Variable, VariableFile
from o365check.postman.runner import CollectionRun, RunConfig
from o365check.postman.summary import RunSummary

TOKEN_URL = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token"


def run_events(collection, config=None, session=None):
    session = session or echo_session()[0]
    run = CollectionRun(collection, config or RunConfig(), session=session)
    events = list(run.events())
    summary = RunSummary()
    for e in events:
        summary.handle(e)
    return events, summary


def env(**values: str) -> VariableFile:
    return VariableFile(
        "e", [Variable(k, v, "secret" if k.endswith("secret") else "default") for k, v in values.items()]
    )


def oauth2_collection(client_auth: str | None = "body", grant_key: str = "grant_type", items: int = 2) -> dict:
    params = [
        {"key": grant_key, "value": "client_credentials"},
        {"key": "accessTokenUrl", "value": TOKEN_URL},
        {"key": "clientId", "value": "{{client_id}}"},
        {"key": "clientSecret", "value": "{{client_secret}}"},
        {"key": "scope", "value": "https://graph.microsoft.com/.default"},
    ]
    if client_auth:
        params.append(
            {"key": "client_authentication" if grant_key == "grant_type" else "clientAuth", "value": client_auth}
        )
    return {
        "info": {"name": "o"},
        "auth": {"type": "oauth2", "oauth2": params},
        "item": [
            {"name": f"call {i}", "request": {"method": "GET", "url": "https://graph.microsoft.com/v1.0/me"}}
            for i in range(items)
        ],
    }


@pytest.mark.corpus
def test_inheritance_in_newman_inherited_entities() -> None:
    folder = corpus_path("newman-integration", "inherited-entities")
    collection = load_collection(folder / "inherited-entities.postman_collection.json")
    kinds = [
        (i.name, (find_effective_auth(i, p, collection) or ev.Event()).__dict__.get("type"))
        for i, p in collection.iter_items()
    ]
    assert kinds == [
        ("Variables", "basic"),
        ("Auth", "basic"),
        ("Events", "basic"),
        ("Auth", "digest"),
        ("Event", "digest"),
        ("Auth", "digest"),
        ("Auth override", None),
        ("Environment override", "basic"),
    ]
    session, echo = echo_session()
    events, summary = run_events(
        collection,
        RunConfig(environment=load_environment(folder / "inherited-entities.postman_environment.json")),
        session,
    )
    basic = "Basic " + base64.b64encode(b"postman:password").decode()
    sent = {r["url"]: r["headers"].get("authorization") for r in echo.requests}
    assert sent["https://postman-echo.com/basic-auth"] in (None, basic)
    assert echo.requests[1]["headers"]["authorization"] == basic  # collection-level basic
    assert "authorization" not in echo.requests[6]["headers"]  # request-level noauth stops inheritance
    # the collection-level and folder-level pre-request scripts ran before the requests
    assert echo.requests[2]["url"] == "https://postman-echo.com/get?test=collection_script"
    assert echo.requests[4]["url"] == "https://postman-echo.com/get?test=folder_script"
    failed = [e for e in events if isinstance(e, ev.TestFailed)]
    assert not [e for e in failed if "level" in e.name and "auth" not in e.name.lower()], failed


@pytest.mark.parametrize(
    "client_auth, grant_key",
    [("body", "grant_type"), ("header", "grant_type"), ("body", "grantType"), (None, "grant_type")],
)
def test_oauth2_client_credentials_fetched_once_and_sent(client_auth: str | None, grant_key: str) -> None:
    session, echo = echo_session()
    events, summary = run_events(
        parse_collection(oauth2_collection(client_auth, grant_key)),
        RunConfig(environment=env(client_id="app-id", client_secret="right-secret")),
        session,
    )
    assert echo.token_calls == 1
    token_request, *calls = echo.requests
    assert token_request["form"]["grant_type"] == "client_credentials"
    assert token_request["form"]["scope"] == "https://graph.microsoft.com/.default"
    if client_auth == "header":
        assert token_request["headers"]["authorization"] == "Basic " + base64.b64encode(b"app-id:right-secret").decode()
        assert "client_secret" not in token_request["form"]
    else:  # body, and the default for a Microsoft identity host
        assert (
            token_request["form"]["client_secret"] == "right-secret" and "authorization" not in token_request["headers"]
        )
    assert [c["headers"]["authorization"] for c in calls] == ["Bearer tok-1-abcdefgh"] * 2
    fetched = [e for e in events if isinstance(e, ev.TokenFetched)]
    assert [f.from_cache for f in fetched] == [False, True]
    assert summary.exit_code == 0


def test_oauth2_refused_token_is_a_request_failure_with_the_token_error() -> None:
    events, summary = run_events(
        parse_collection(oauth2_collection(items=1)),
        RunConfig(environment=env(client_id="a", client_secret="wrong-secret")),
    )
    failed = [e for e in events if isinstance(e, ev.RequestFailed)]
    assert len(failed) == 1 and failed[0].kind == "token" and isinstance(failed[0].error, TokenError)
    assert failed[0].error.error_code == "AADSTS7000215"
    assert summary.exit_code == 1


def test_oauth2_stored_access_token_used_as_newman_does() -> None:
    doc = {
        "info": {"name": "s"},
        "auth": {
            "type": "oauth2",
            "oauth2": [{"key": "accessToken", "value": "PRE-STORED-TOKEN"}, {"key": "addTokenTo", "value": "header"}],
        },
        "item": [{"name": "x", "request": "https://graph.microsoft.com/v1.0/me"}],
    }
    session, echo = echo_session()
    run_events(parse_collection(doc), session=session)
    assert echo.requests[0]["headers"]["authorization"] == "Bearer PRE-STORED-TOKEN"


def test_token_cache_refetches_shortly_before_expiry() -> None:
    session, echo = echo_session()
    now = [1000.0]
    tokens = ClientCredentialsTokens(session, clock=lambda: now[0])
    settings = OAuth2Settings(TOKEN_URL, "id", "right-secret", "s/.default", "body", "client_secret")
    first = tokens.fetch_token(settings)
    now[0] += 3000
    assert tokens.fetch_token(settings).from_cache
    now[0] += 560  # within 60 s of the 3599 s lifetime
    again = tokens.fetch_token(settings)
    assert not again.from_cache and again.access_token != first.access_token
    assert (
        tokens.fetch_token(
            OAuth2Settings(TOKEN_URL, "id", "right-secret", "other/.default", "body", "client_secret")
        ).from_cache
        is False
    )
    assert "right-secret" not in repr(settings) and first.access_token not in repr(first)


@pytest.mark.parametrize(
    "url", ["https://evil.example/collect", "http://login.microsoftonline.com/t/oauth2/v2.0/token"]
)
def test_secret_sent_elsewhere_is_refused_by_name(url: str) -> None:
    doc = {
        "info": {"name": "leak"},
        "item": [
            {
                "name": "leak",
                "request": {
                    "method": "POST",
                    "url": url,
                    "body": {"mode": "urlencoded", "urlencoded": [{"key": "s", "value": "{{my_cred}}"}]},
                },
            }
        ],
    }
    environment = VariableFile("e", [Variable("my_cred", "canary-CANARY-123", "secret")])
    session, echo = echo_session()
    events, summary = run_events(parse_collection(doc), RunConfig(environment=environment), session)
    failed = [e for e in events if isinstance(e, ev.RequestFailed)]
    assert echo.requests == []
    assert failed and isinstance(failed[0].error, SecretRoutingError)
    assert failed[0].error.variable == "my_cred" and failed[0].error.host in url
    assert "--allow-secret-to" in str(failed[0].error) and "canary-CANARY-123" not in str(failed[0].error)
    assert summary.exit_code == 2
    events, summary = run_events(
        parse_collection(doc), RunConfig(environment=environment, allow_secret_to=[failed[0].error.host]), session
    )
    assert summary.exit_code == 0 and len(echo.requests) == 1


def test_secret_in_basic_auth_or_query_is_found_and_loopback_is_allowed() -> None:
    environment = env(client_secret="right-secret")
    doc = {
        "info": {"name": "b"},
        "item": [
            {
                "name": "basic",
                "request": {
                    "url": "https://api.example/x",
                    "auth": {
                        "type": "basic",
                        "basic": [{"key": "username", "value": "u"}, {"key": "password", "value": "{{client_secret}}"}],
                    },
                },
            },
            {"name": "query", "request": "https://api.example/x?k={{client_secret}}"},
            {"name": "loopback", "request": "http://127.0.0.1:9/x?k={{client_secret}}"},
        ],
    }
    events, summary = run_events(parse_collection(doc), RunConfig(environment=environment))
    refused = [e.item for e in events if isinstance(e, ev.RequestFailed)]
    assert refused == ["basic", "query"]
    assert [e.item for e in events if isinstance(e, ev.ResponseReceived)] == ["loopback"]
