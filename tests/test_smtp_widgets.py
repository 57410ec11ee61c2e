"""SmtpPanel: the set-up filled in with the target's values, and the SMTP check in the notebook."""

from __future__ import annotations

import pytest

from o365check.widgets import SmtpPanel, Walkthrough

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])


def panel(scenario: str) -> SmtpPanel:
    walk = Walkthrough()
    walk.set_mode("sandbox", scenario=scenario)
    return SmtpPanel(walk)


def test_smtp_panel_passes_on_smtp_ok_and_fills_in_the_setup(clean_env):
    smtp = panel("smtp-ok")
    report = smtp.run()
    assert report is not None and report.ok
    assert "Every SMTP step passed." in smtp.result.value
    # after the run the scenario's values are known: the commands name them, quoted
    assert "New-ServicePrincipal -AppId &#x27;4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d&#x27;" in smtp.setup.value
    assert "Add-MailboxPermission -Identity &#x27;notifications@contoso.example&#x27;" in smtp.setup.value


def test_smtp_panel_shows_the_failing_step_and_its_diagnosis(clean_env):
    smtp = panel("smtp-auth-disabled-mailbox")
    report = smtp.run()
    assert report is not None and report.failed_step.name == "smtp-auth"
    assert "5.7.139" in smtp.result.value and "Set-CASMailbox" in smtp.result.value


def test_smtp_panel_options_act_like_the_users_app(clean_env):
    smtp = panel("smtp-ok")
    smtp.starttls.value = False
    report = smtp.run()
    assert report is not None and report.failed_step.error_code == "5.7.4"


@pytest.fixture
def clean_env(monkeypatch):
    from o365check.settings import ENV_NAMES

    for var in ENV_NAMES.values():
        monkeypatch.delenv(var, raising=False)
