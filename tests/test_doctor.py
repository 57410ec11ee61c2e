"""The doctor against every sandbox scenario, and under the sandbox's injected faults."""

import pytest

from o365check.doctor import build_report, run_doctor
from o365check.sandbox import SCENARIOS, Faults, Sandbox
from o365check.settings import Settings
from o365check.targets import open_target

# Pinned: the diagnosis title each failing scenario must show, per failed step.
EXPECTED = {
    "ok": {},
    "tenant-not-found": {"discovery": ("AADSTS90002", "The tenant was not found")},
    "app-not-found": {"token": ("AADSTS700016", "The application was not found in this tenant")},
    "secret-id-not-value": {
        "token": ("AADSTS7000215", "The client secret is wrong (often the secret ID was used instead of its value)")
    },
    "wrong-secret": {
        "token": ("AADSTS7000215", "The client secret is wrong (often the secret ID was used instead of its value)")
    },
    "secret-expired": {"token": ("AADSTS7000222", "The client secret has expired")},
    "app-disabled": {"token": ("AADSTS7000112", "The application is disabled")},
    "conditional-access-blocked": {"token": ("AADSTS53003", "Conditional Access blocked the token")},
    "no-admin-consent": {
        "claims": (
            "claims-roles-missing",
            "The token has no roles: Mail.Send is not granted as an application permission",
        ),
        "send": (
            "NoPermissionsInAccessToken",
            "The token has no permissions (Mail.Send not granted as an application permission)",
        ),
    },
    "wrong-permission": {
        "claims": (
            "claims-mail-send-missing",
            "The token has roles but not Mail.Send (delegated permission added instead)",
        ),
        "send": ("ErrorAccessDenied", "Access denied: the token lacks Mail.Send for this mailbox"),
    },
    "sender-not-found": {"send": ("ErrorInvalidUser", "The sender mailbox does not exist")},
    "mailbox-unlicensed": {
        "send": (
            "MailboxNotEnabledForRESTAPI",
            "The sender has no usable Exchange Online mailbox (no licence, inactive or on-premises)",
        )
    },
    "shared-mailbox": {},
    "access-policy-denied": {
        "send": ("ErrorAccessDenied", "The sender is outside the app's application access policy")
    },
    "throttled": {"send": ("ApplicationThrottled", "The app is throttled for this mailbox")},
}


class FakeClock:
    def __init__(self, start=1_795_000_000.0):
        self.now = start
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def doctor(box, settings=None, **kwargs):
    settings = settings or Settings._build(dict(box.credentials), {})
    from o365check.http import build_session

    session = build_session(sandbox=box)
    steps = list(run_doctor(settings, session, sandbox=box, **kwargs))
    return build_report(settings, steps, "sandbox")


def test_every_scenario_is_pinned():
    assert set(EXPECTED) == set(SCENARIOS)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name):
    scenario = SCENARIOS[name]
    target = open_target(Settings(sandbox=name))
    steps = list(run_doctor(target.settings, target.session, sandbox=target.sandbox, max_wait=2, sleep=lambda s: None))
    report = build_report(target.settings, steps, target.label)
    failed = {s.name: (s.error_code, s.diagnosis.title) for s in steps if s.status == "failed"}
    assert failed == EXPECTED[name]
    if scenario.failing_step is None:
        assert report.ok and report.exit_code == 0
        assert [s.status for s in steps] == ["passed"] * 5
        assert len(target.sandbox.outbox) == 1
        assert report.advice[0].code == "mail-send-tenant-wide"
    else:
        assert report.exit_code == 1
        assert report.failed_step.name == scenario.failing_step
        assert scenario.error_code in [code for code, _ in failed.values()]
        order = [s.name for s in steps]
        for skipped in order[order.index(report.failed_step.name) + 1 :]:
            status = next(s.status for s in steps if s.name == skipped)
            needs_token = scenario.failing_step in ("settings", "discovery", "token")
            assert status == ("skipped" if needs_token else status)
        assert target.sandbox.outbox == []


def test_ok_message_lands_in_outbox_addressed_to_the_recipient():
    box = Sandbox("ok")
    report = doctor(box)
    assert report.ok
    message = box.outbox[0]
    assert "o365check test message" in str(message)
    assert box.credentials["recipient"] in str(message)


def test_to_defaults_to_the_sender_itself():
    box = Sandbox("ok")
    settings = Settings._build({k: v for k, v in box.credentials.items() if k != "recipient"}, {})
    assert doctor(box, settings).ok
    assert box.credentials["sender"] in str(box.outbox[0])


def test_postman_style_token_request_is_an_extra_step():
    report = doctor(Sandbox("ok"), postman=True)
    assert [s.name for s in report.steps] == ["settings", "discovery", "token", "postman-token", "claims", "send"]
    assert report.ok


def test_settings_errors_skip_everything_and_exit_2():
    box = Sandbox("ok")
    settings = Settings._build(dict(box.credentials, tenant_id="common"), {})
    report = doctor(box, settings)
    assert [s.status for s in report.steps] == ["failed", "skipped", "skipped", "skipped", "skipped"]
    assert report.steps[0].error_code == "tenant-not-specific"
    assert report.exit_code == 2


def _flip_off(box, clock):
    def sleep(seconds):
        clock.sleep(seconds)
        box.app.injector.faults = Faults()

    return sleep


@pytest.mark.parametrize("status", [429, 503])
def test_graph_retry_after_is_honoured_then_send_succeeds(status):
    clock = FakeClock()
    box = Sandbox(
        "ok",
        faults=Faults(host_rates={"graph.microsoft.com": 1.0}, statuses=(status,), retry_after=1, seed=1),
        clock=clock,
    )
    report = doctor(box, sleep=_flip_off(box, clock), max_wait=10)
    send = report.steps[-1]
    assert send.status == "passed"
    assert clock.sleeps == [1 if status == 429 else 5]  # a 503 without Retry-After waits the default 5 s
    assert ("Waited (Retry-After)", f"{clock.sleeps[0]:g} s") in send.details
    assert len(box.outbox) == 1


def test_retry_after_beyond_the_bound_is_not_waited_for():
    clock = FakeClock()
    box = Sandbox(
        "ok",
        faults=Faults(host_rates={"graph.microsoft.com": 1.0}, statuses=(429,), retry_after=30, seed=1),
        clock=clock,
    )
    report = doctor(box, sleep=clock.sleep, max_wait=10)
    send = report.steps[-1]
    assert send.status == "failed" and send.error_code == "TooManyRequests"
    assert clock.sleeps == []
    assert "Graph asked to wait 30 s (Retry-After), longer than --max-wait 10 s: o365check did not wait" in send.summary


def test_waits_add_up_to_the_bound_then_stop():
    clock = FakeClock()
    box = Sandbox(
        "ok",
        faults=Faults(host_rates={"graph.microsoft.com": 1.0}, statuses=(429,), retry_after=2, seed=1),
        clock=clock,
    )
    report = doctor(box, sleep=clock.sleep, max_wait=5)
    assert clock.sleeps == [2, 2]
    assert report.steps[-1].waited == 4 and ("Waited (Retry-After)", "4 s") in report.steps[-1].details


def test_token_endpoint_throttling_is_waited_out():
    clock = FakeClock()
    box = Sandbox(
        "ok",
        faults=Faults(host_rates={"login.microsoftonline.com": 1.0}, statuses=(429,), retry_after=1, seed=3),
        clock=clock,
    )
    # Discovery is throttled too: switch faults off only when the token step starts waiting.
    box.app.injector.faults = Faults()
    settings = Settings._build(dict(box.credentials), {})
    from o365check.http import build_session

    session = build_session(sandbox=box)
    steps = []
    for step in run_doctor(settings, session, sandbox=box, sleep=_flip_off(box, clock)):
        steps.append(step)
        if step.name == "discovery":
            box.app.injector.faults = Faults(
                host_rates={"login.microsoftonline.com": 1.0}, statuses=(429,), retry_after=1, seed=3
            )
    token = next(s for s in steps if s.name == "token")
    assert token.status == "passed" and token.waited == 1 and clock.sleeps == [1]


@pytest.mark.parametrize("kind", ["reset", "timeout"])
def test_ambiguous_failure_is_never_resent(kind):
    box = Sandbox("ok", faults=Faults(ambiguous_send=kind))
    report = doctor(box)
    send = report.steps[-1]
    assert send.status == "failed" and send.error_code == "send-ambiguous"
    assert "may have been sent" in send.summary and "Sent Items" in send.summary
    assert len(box.outbox) == 1  # the sandbox accepted it once; o365check did not send it again
    assert report.exit_code == 3


def test_tenant_of_another_cloud_is_found_and_named():
    from o365check.sandbox.scenarios import OTHER_TENANT_ID

    box = Sandbox("ok")
    settings = Settings._build(dict(box.credentials, tenant_id=OTHER_TENANT_ID), {})
    report = doctor(box, settings)
    discovery = report.steps[1]
    assert discovery.status == "failed" and discovery.error_code == "AADSTS90002"
    assert "set O365CHECK_CLOUD=usgov" in discovery.summary
    assert discovery.diagnosis.fixes[0].startswith(f"The tenant '{OTHER_TENANT_ID}' exists in the US Government L4")


def test_a_tenant_found_nowhere_gets_no_cloud_hint():
    report = doctor(Sandbox("tenant-not-found"))
    assert "O365CHECK_CLOUD" not in report.steps[1].summary
