"""Injected faults: seeded rate per host, remembered throttles, latency, ambiguous sendMail."""

from __future__ import annotations

import time

import pytest
import requests
from sandbox_helpers import fetch_token, mounted_session, post_token, send_mail

from o365check.sandbox import Faults, Sandbox

GRAPH_HOST = "graph.microsoft.com"
LOGIN_HOST = "login.microsoftonline.com"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def statuses_for(seed: int, count: int = 30) -> list[int]:
    box = Sandbox("ok", faults=Faults(host_rates={LOGIN_HOST: 0.5}, statuses=(500, 503, 504), seed=seed))
    session = mounted_session(box)
    return [post_token(session, box).status_code for _ in range(count)]


def test_seeded_rate_is_deterministic_and_roughly_the_rate():
    first, again, other = statuses_for(7), statuses_for(7), statuses_for(8)
    assert first == again and first != other
    failures = [s for s in first if s != 200]
    assert 5 <= len(failures) <= 25 and set(failures) <= {500, 503, 504}


def test_rate_applies_per_host():
    box = Sandbox("ok", faults=Faults(host_rates={GRAPH_HOST: 1.0}, statuses=(503,), seed=1))
    session = mounted_session(box)
    token = fetch_token(session, box)  # identity host untouched
    response = send_mail(session, box, token)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "serviceNotAvailable"  # a real Graph code
    assert box.outbox == []


def test_identity_faults_are_aadsts_shaped():
    box = Sandbox("ok", faults=Faults(rate=1.0, statuses=(429,), retry_after=1, seed=1))
    response = post_token(mounted_session(box), box)
    body = response.json()
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert body["error_description"].startswith(f"AADSTS{body['error_codes'][0]}: ")
    assert "\r\nTrace ID: " in body["error_description"]


def test_early_retry_is_throttled_again_and_a_patient_one_passes():
    clock = Clock()
    box = Sandbox(
        "ok", faults=Faults(host_rates={GRAPH_HOST: 1.0}, statuses=(429,), retry_after=2, seed=1), clock=clock
    )
    session = mounted_session(box)
    token = fetch_token(session, box)
    first = send_mail(session, box, token)
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert first.json()["error"]["code"] == "TooManyRequests"
    box.faults = Faults()  # stop injecting: only the remembered throttle is left
    clock.now += 1
    early = send_mail(session, box, token)
    assert early.status_code == 429 and early.headers["Retry-After"] == "1"
    clock.now += 1.5
    assert send_mail(session, box, token).status_code == 202


def test_latency_is_injected():
    box = Sandbox("ok", faults=Faults(latency_ms=(60, 80), seed=3))
    response = post_token(mounted_session(box), box)
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.06


@pytest.mark.parametrize("kind,exception", [("reset", requests.ConnectionError), ("timeout", requests.ReadTimeout)])
def test_ambiguous_send_accepts_then_loses_the_answer(kind, exception):
    box = Sandbox("ok", faults=Faults(ambiguous_send=kind, seed=1))
    session = mounted_session(box)
    token = fetch_token(session, box)  # identity requests are never ambiguous
    with pytest.raises(exception):
        send_mail(session, box, token)
    assert len(box.outbox) == 1  # the message went out even though the client saw an error


def test_ambiguous_faults_only_hit_accepted_sends():
    box = Sandbox("mailbox-unlicensed", faults=Faults(ambiguous_send="reset", seed=1))
    session = mounted_session(box)
    assert send_mail(session, box, fetch_token(session, box)).status_code == 404


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"rate": 1.5}, "Faults.rate"),
        ({"statuses": (418,)}, "Faults.statuses"),
        ({"host_rates": {GRAPH_HOST: -1}}, "host_rates"),
        ({"latency_ms": (10, 5)}, "Faults.latency_ms"),
        ({"ambiguous_send": "drop"}, "Faults.ambiguous_send"),
    ],
)
def test_bad_fault_settings_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        Faults(**kwargs)
