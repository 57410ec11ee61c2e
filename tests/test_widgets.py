"""The notebook panels driven in plain pytest: set ``.value``, ``click()``, read what the learner sees."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import ipywidgets as w
import pytest

from o365check.sandbox import SCENARIOS
from o365check.sandbox.scenarios import SECRET_VALUE
from o365check.settings import Settings
from o365check.widgets import (
    CollectionPanel,
    CredentialsPanel,
    DoctorPanel,
    MailboxScopingPanel,
    ModeSelector,
    ScenarioTour,
    SendPanel,
    SetupChecklist,
    TokenPanel,
    Walkthrough,
)

CANARY = "canary-Q~s3cr3t-7f1e9d2c-DO-NOT-LEAK"


def seen(widget: w.HTML) -> str:
    """The text a learner reads in an HTML widget (tags dropped, entities decoded)."""
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", widget.value))).strip()
    return re.sub(r" ([:.,;])", r"\1", text)


def latest(panel) -> str:
    """What a learner reads in the newest entry of a panel's history (without its time and title line)."""
    html = re.sub(r'^<div class="o365check-entry"[^>]*><div[^>]*>.*?</div>', "", panel.history.latest, count=1)
    return seen(w.HTML(html))


def all_state(widget: w.Widget) -> str:
    """Every synced value of a widget tree, as it could be saved in a notebook's widget state."""
    parts = [json.dumps(widget.get_state(), default=str)]
    for child in getattr(widget, "children", ()):
        parts.append(all_state(child))
    return "\n".join(parts)


@pytest.fixture
def walk() -> Walkthrough:
    return Walkthrough(Settings())  # as if no AZURE_* variable was set: sandbox, scenario "ok"


def use_scenario(walk: Walkthrough, name: str) -> None:
    walk.set_mode("sandbox", scenario=name)


# ----------------------------------------------------------------------------- mode
def test_mode_defaults_follow_the_environment():
    assert Walkthrough(Settings()).mode == "sandbox"
    live = Settings().with_values(tenant_id="contoso.onmicrosoft.com", client_id="11111111-2222-3333-4444-555555555555")
    assert Walkthrough(live).mode == "tenant"
    assert Walkthrough(Settings(cassette="x.yaml")).mode == "cassette"


def test_mode_selector_switches_scenario_and_explains_it(walk):
    selector = ModeSelector(walk)
    selector.scenario.value = "secret-expired"
    assert walk.scenario == "secret-expired"
    assert "AADSTS7000222" in seen(selector.status)
    selector.mode.value = "cassette"
    selector.cassette.value = "no/such/cassette.yaml"
    assert walk.mode == "cassette"
    assert "'no/such/cassette.yaml' does not exist" in seen(selector.status)
    assert "Fix:" in seen(selector.status)


# ----------------------------------------------------------------------------- credentials
def test_credentials_empty_in_sandbox_use_the_scenario_values(walk):
    panel = CredentialsPanel(walk)
    assert "the sandbox scenario's value is used" in seen(panel.notes["tenant_id"])
    assert seen(panel.summary).startswith("✔ ok Ready")


def test_credentials_are_checked_as_you_type(walk):
    walk.set_mode("tenant")
    panel = CredentialsPanel(walk)
    panel.tenant_id.value = "contoso"
    note = seen(panel.notes["tenant_id"])
    assert "Tenant ID is not a GUID or domain" in note and "contoso.onmicrosoft.com" in note
    panel.tenant_id.value = "contoso.onmicrosoft.com"
    assert seen(panel.notes["tenant_id"]) == "✔ ok Tenant ID: looks right."
    panel.client_id.value = "Contoso Notifications"
    assert "Client ID is not a GUID" in seen(panel.notes["client_id"])
    panel.sender.value = "a@contoso.com; b@contoso.com"
    assert "Give one address only" in seen(panel.notes["sender"])
    assert "is not set" in seen(panel.notes["client_secret"])
    assert "3 value(s) need fixing" in seen(panel.summary)


def test_secret_is_taken_once_and_cleared_from_the_box(walk):
    walk.set_mode("tenant")
    panel = CredentialsPanel(walk)
    panel.secret.value = CANARY
    assert panel.secret.value == ""
    assert walk.typed.client_secret.reveal() == CANARY
    assert f"received ({len(CANARY)} characters) and cleared" in seen(panel.notes["client_secret"])
    assert CANARY not in all_state(panel.widget)
    assert CANARY not in repr(walk) + repr(walk.settings())
    panel.forget.click()
    assert walk.typed.client_secret is None


def test_secret_id_pasted_instead_of_value_is_flagged(walk):
    walk.set_mode("tenant")
    panel = CredentialsPanel(walk)
    panel.secret.value = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    assert "looks like a Secret ID, not a secret value" in seen(panel.notes["client_secret"])


def test_example_values_fill_the_plain_fields_only(walk):
    use_scenario(walk, "sender-not-found")
    panel = CredentialsPanel(walk)
    panel.example.click()
    assert panel.sender.value == "notifcations@contoso.example"  # the scenario's typo
    assert panel.secret.value == "" and walk.typed.client_secret is None


# ----------------------------------------------------------------------------- token
def test_postman_request_is_shown_with_the_secret_masked(walk):
    token = TokenPanel(walk)
    token.show_request_button.click()
    shown = latest(token)
    assert "POST https://login.microsoftonline.com/" in shown
    assert "User-Agent: PostmanRuntime/" in shown
    assert "client_secret=********" in shown and "grant_type=client_credentials" in shown
    assert SECRET_VALUE not in token.history.widget.value


@pytest.mark.parametrize("button", ["postman_button", "msal_button"])
def test_token_happy_path_shows_claims_with_verdicts(walk, button):
    token = TokenPanel(walk)
    getattr(token, button).click()
    shown = latest(token)
    assert ("✔ ok Bearer token received" in shown) and ("✘" not in shown)
    claims = shown.split("Claims (decoded")[1]
    for claim in ("aud", "tid", "appid", "roles", "idtyp", "exp"):
        assert re.search(rf"\b{claim} .*?✔ passed", claims), claim
    assert "Mail.Send" in claims
    assert walk.token is not None
    token_text = walk.token.access_token.reveal()
    assert token_text not in all_state(token.widget)


def test_token_with_secret_id_shows_aadsts_and_the_fix(walk):
    use_scenario(walk, "secret-id-not-value")
    token = TokenPanel(walk)
    token.postman_button.click()
    shown = latest(token)
    assert "✘ failed" in shown and "AADSTS7000215" in shown
    assert "The client secret is wrong" in shown  # the diagnosis title
    assert walk.token is None and "Claims (decoded" not in shown
    assert '"error": "invalid_client"' in shown  # the raw answer of the token endpoint


def test_token_without_consent_fails_the_roles_claim(walk):
    use_scenario(walk, "no-admin-consent")
    token = TokenPanel(walk)
    token.msal_button.click()
    claims = latest(token)
    assert "Claim Value Verdict" in claims  # every column labelled, the verdict last
    assert "roles (no roles claim) ✘ failed expected contains Mail.Send" in claims
    assert "Mail.Send is not granted as an application permission" in claims


def test_tenant_mode_without_credentials_does_not_fall_back_to_the_sandbox(walk):
    walk.set_mode("tenant")
    token = TokenPanel(walk)
    token.msal_button.click()
    assert "needs the Tenant ID, Client ID and client secret" in latest(token)
    assert walk.opened is None


def test_typed_settings_are_validated_before_any_request(walk):
    walk.set_mode("tenant")
    panel = CredentialsPanel(walk)
    panel.tenant_id.value = "common"
    panel.client_id.value = "11111111-2222-3333-4444-555555555555"
    panel.secret.value = CANARY
    panel.sender.value = "notifications@contoso.com"
    token = TokenPanel(walk)
    token.postman_button.click()
    assert "is not a specific tenant" in latest(token)
    assert CANARY not in all_state(token.widget) + all_state(panel.widget)


# ----------------------------------------------------------------------------- send
def test_send_reaches_the_sandbox_outbox_addressed_to_the_sender(walk):
    token, send = TokenPanel(walk), SendPanel(walk)
    token.msal_button.click()
    send.send_button.click()
    assert "202 Accepted" in latest(send)
    outbox = walk.opened.sandbox.outbox
    assert len(outbox) == 1
    settings = walk.opened.settings
    assert outbox[0]["sender"] == settings.sender
    row = f"{settings.sender} {settings.effective_recipient} o365check test message"
    assert f"Sandbox outbox (1 message(s)) From To Subject Accepted at {row}" in latest(send)


def test_send_to_the_sender_itself(walk):
    send = SendPanel(walk)
    send.recipient.value = "notifications@contoso.example"  # the sandbox's sender
    send.send_button.click()
    assert "from notifications@contoso.example to notifications@contoso.example was accepted" in latest(send)
    assert walk.opened.sandbox.outbox[0]["to"] == ["notifications@contoso.example"]


def test_send_without_token_gets_one_first(walk):
    send = SendPanel(walk)
    send.send_button.click()
    assert "No token yet, so one was requested through MSAL first" in latest(send)


@pytest.mark.parametrize("scenario", ["mailbox-unlicensed", "access-policy-denied", "sender-not-found"])
def test_send_failures_show_graph_code_and_diagnosis(walk, scenario):
    use_scenario(walk, scenario)
    send = SendPanel(walk)
    send.send_button.click()
    shown = latest(send)
    assert shown.startswith("✘ failed") and SCENARIOS[scenario].error_code in shown
    assert "Sandbox outbox: empty." in latest(send)


# ----------------------------------------------------------------------------- doctor
# An smtp-* scenario is checked over SMTP: the sandbox's SMTP server listens on 127.0.0.1.
LOOPBACK = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=LOOPBACK) if s.via == "smtp" else n for n, s in SCENARIOS.items()]
)
def test_scenario_tour_shows_where_each_scenario_fails(name):
    tour = ScenarioTour()
    report = tour.check(name).value
    expected = SCENARIOS[name].failing_step
    failed = report.failed_step
    assert (failed.name if failed else None) == expected
    shown = latest(tour)
    if expected is None:
        assert "✘" not in shown
    else:
        assert f"{failed.title} ✘ failed" in shown
        assert failed.diagnosis.title in shown
        if not expected.endswith("claims"):  # claims failures carry our finding code, not Graph's / SMTP's
            assert SCENARIOS[name].error_code in shown


@LOOPBACK
def test_scenario_tour_table_has_a_row_per_scenario():
    tour = ScenarioTour()
    tour.all_button.click()
    rows = latest(tour)
    assert "ok ✔ passed Everything passed" in rows
    assert "secret-id-not-value ✘ failed App-only token from the token endpoint (MSAL) AADSTS7000215" in rows
    assert rows.count("✘ failed") == sum(1 for s in SCENARIOS.values() if s.failing_step)


def test_doctor_panel_runs_in_the_chosen_mode(walk):
    use_scenario(walk, "throttled")
    doctor = DoctorPanel(walk)
    doctor.run_button.click()
    shown = seen(w.HTML(doctor.history.latest))
    assert "sandbox scenario 'throttled'" in shown and "ApplicationThrottled" in shown
    assert doctor.report.exit_code == 1


# ----------------------------------------------------------------------------- set-up and scoping
def test_checklist_progress_and_consent_link(walk):
    checklist = SetupChecklist(walk)
    assert "0 of 7 steps done; next: Register the app." in seen(checklist.progress)
    checklist.boxes["register"].value = True
    assert "1 of 7 steps done; next: Copy the Application (client) ID" in seen(checklist.progress)
    walk.set_mode("tenant")
    CredentialsPanel(walk).tenant_id.value = "contoso.onmicrosoft.com"
    assert (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=<application-client-id>"
        in seen(checklist.consent)
    )


def test_scoping_commands_follow_the_typed_values(walk):
    panel = MailboxScopingPanel(walk)
    panel.client_id.value = "11111111-2222-3333-4444-555555555555"
    panel.sender.value = "o'brien@contoso.com"
    shown = seen(panel.commands)
    assert "New-ApplicationAccessPolicy -AppId '11111111-2222-3333-4444-555555555555'" in shown
    assert "Test-ApplicationAccessPolicy -Identity 'o''brien@contoso.com'" in shown


# ----------------------------------------------------------------------------- collection
GUIDE = str(Path(__file__).resolve().parents[1] / "collections" / "office365-sendmail.postman_collection.json")


def test_collection_runs_the_guide_requests_in_the_sandbox(walk):
    runner = CollectionPanel(walk, GUIDE)
    runner.run_button.click()
    shown = latest(runner)
    assert "2 test(s) passed, 0 failed." in shown
    assert "✔ token request succeeds (200)" in shown and "✔ sendMail is accepted (202)" in shown
    assert len(walk.opened.sandbox.outbox) == 1


def test_collection_failure_shows_the_diagnosis(walk):
    use_scenario(walk, "wrong-secret")
    runner = CollectionPanel(walk, GUIDE)
    runner.run_button.click()
    shown = latest(runner)
    assert "✘ token request succeeds (200): expected response to have status code 200 but got 401" in shown
    assert "AADSTS7000215" in shown and "The client secret is wrong" in shown


def test_collection_record_then_replay_gives_the_same_table(walk, tmp_path):
    CredentialsPanel(walk).secret.value = CANARY  # recorded with a canary secret
    use_scenario(walk, "ok")
    runner = CollectionPanel(walk, GUIDE)
    runner.cassette.value = str(tmp_path / "run.yaml")
    runner.record_button.click()
    recorded = latest(runner)
    assert "Recorded sandbox scenario 'ok'" in recorded
    assert "0 test(s) passed, 2 failed." in recorded and "AADSTS7000215" in recorded  # the canary was sent
    runner.replay_button.click()
    replayed = latest(runner)
    # The replay ran from the cassette, but the walkthrough (and so the selector and the credentials) stayed in the sandbox.
    assert (
        walk.mode == "sandbox" and replayed.startswith("ℹ info Replayed") and "still in Sandbox tenant mode" in replayed
    )
    assert len(runner.history.entries) == 2  # the recording's entry is still there, under the replay's
    assert replayed.split("Request Sent Answer Tests")[1] == recorded.split("Request Sent Answer Tests")[1]
    assert CANARY not in (tmp_path / "run.yaml").read_text()


def test_collection_replay_without_a_recording_says_how_to_fix_it(walk, tmp_path):
    runner = CollectionPanel(walk, GUIDE)
    runner.cassette.value = str(tmp_path / "missing.yaml")
    runner.replay_button.click()
    assert "does not exist. Fix: click 'Run and record' first" in latest(runner)


def test_collection_script_errors_are_shown_not_silent(walk, tmp_path):
    collection = json.loads(Path(GUIDE).read_text())
    collection["item"][0]["event"][0]["script"]["exec"] = ['throw new Error("boom in the test script");']
    path = tmp_path / "broken.postman_collection.json"
    path.write_text(json.dumps(collection))
    runner = CollectionPanel(walk, str(path))
    runner.run_button.click()
    assert "⚠ warning Get app-only access token: test script failed: Error: boom in the test script" in latest(runner)


# ----------------------------------------------------------------------------- issue 13: one state, histories, links
def links(html: str) -> list[tuple[str, str]]:
    """(href, target) of every link in an HTML fragment."""
    return re.findall(r'<a href="([^"]+)" target="([^"]+)" rel="noopener noreferrer"[^>]*>', html)


def test_mode_selector_shows_a_mode_set_from_code(walk):
    selector = ModeSelector(walk)
    walk.set_mode("cassette", cassette="x.yaml")
    assert selector.mode.value == "cassette" and selector.cassette.value == "x.yaml"
    assert "'x.yaml' does not exist" in seen(selector.status)
    walk.set_mode("sandbox", scenario="throttled")
    assert (selector.mode.value, selector.scenario.value) == ("sandbox", "throttled")


def test_replay_leaves_mode_selector_and_credentials_as_they_were(walk, tmp_path):
    selector, credentials = ModeSelector(walk), CredentialsPanel(walk)
    runner = CollectionPanel(walk, GUIDE)
    runner.cassette.value = str(tmp_path / "run.yaml")
    runner.record_button.click()
    runner.replay_button.click()
    assert selector.mode.value == walk.mode == "sandbox"
    assert "is not set" not in " ".join(seen(note) for note in credentials.notes.values())
    runner.run_button.click()  # runs in the sandbox (the outbox fills), not from the cassette
    assert "Ran against sandbox scenario 'ok'" in latest(runner) and len(walk.opened.sandbox.outbox) == 1


def test_cassette_mode_takes_empty_fields_from_the_recording(walk):
    walk.set_mode("cassette", cassette="collections/cassettes/doctor-ok.yaml")
    credentials = CredentialsPanel(walk)
    notes = " ".join(seen(note) for note in credentials.notes.values())
    assert "is not set" not in notes and "the value the cassette was recorded with is used" in notes


def test_results_accumulate_newest_first_and_show_under_the_cell(walk):
    token = TokenPanel(walk)
    first = token.request_with_msal()
    use_scenario(walk, "secret-id-not-value")
    second = token.request_like_postman()
    assert first.value is not None and second.value is None
    assert token.history.entries == [second.html, first.html]  # both kept, the newest on top
    assert "sandbox scenario 'secret-id-not-value'" in seen(w.HTML(second.html))
    assert "sandbox scenario 'ok'" in seen(w.HTML(first.html))
    assert second._repr_html_() == second.html  # a cell that runs the action shows its entry
    assert repr(first).startswith("Outcome(AppToken(")


def test_raw_token_answer_is_shown_with_the_token_masked(walk):
    token = TokenPanel(walk)
    outcome = token.request_like_postman()
    shown = latest(token)
    assert "Raw answer of the token endpoint" in shown and "HTTP 200" in shown
    assert '"token_type": "Bearer"' in shown and '"expires_in":' in shown
    access = outcome.value.access_token.reveal()
    assert '"access_token": "********"' in shown
    assert access not in all_state(token.widget) and access not in outcome.html


def test_every_url_in_a_diagnosis_is_a_link_opening_a_new_tab(walk):
    use_scenario(walk, "no-admin-consent")
    doctor = DoctorPanel(walk)
    html = doctor.run().html
    found = links(html)
    assert all(target == "_blank" for _href, target in found)
    hrefs = [href for href, _ in found]
    assert any(h.startswith("https://learn.microsoft.com/") for h in hrefs)  # the reference
    assert any("/adminconsent?client_id=" in h for h in hrefs)  # the admin-consent URL in the fixes
    assert "Request ID" in seen(w.HTML(html)) and "Client request ID" in seen(w.HTML(html))  # the send's IDs


def test_checklist_consent_link_and_portal_hint_are_links(walk):
    checklist = SetupChecklist(walk)
    hrefs = [href for href, target in links(checklist.consent.value) if target == "_blank"]
    assert any("/adminconsent?client_id=" in h for h in hrefs) and "https://portal.azure.com" in hrefs
    assert "<pre" not in checklist.consent.value  # prose, not monospace


def test_scoping_explanation_is_prose_and_commands_are_code(walk):
    panel = MailboxScopingPanel(walk)
    html = panel.commands.value
    assert html.startswith("<p>") and "<pre" in html
    prose = html.split("<pre")[0]
    assert "any mailbox" in prose or "every mailbox" in prose or "Mail.Send" in prose
    assert "New-ApplicationAccessPolicy" not in prose


def test_send_placeholder_names_the_address_that_will_be_used(walk):
    from o365check.sandbox.scenarios import RECIPIENT

    send = SendPanel(walk)
    assert RECIPIENT in send.recipient.placeholder  # the sandbox scenario's recipient, not "the sender itself"
    outcome = send.send()
    assert f"to {RECIPIENT} was accepted" in seen(w.HTML(outcome.html))
    walk.set_mode("tenant")
    assert "the sender itself" in send.recipient.placeholder
