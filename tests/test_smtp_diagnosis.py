"""The SMTP diagnosis catalog: every reply of reference §8.3, causes in order, PowerShell filled and quoted."""

from __future__ import annotations

import pytest

from o365check.diagnosis import diagnose, format_diagnosis
from o365check.smtp import SmtpReplyError, enhanced_status
from o365check.smtp_diagnosis import SMTP_FINDINGS, SMTP_REPLIES, SmtpContext, diagnose_smtp, smtp_entry_key

# Reference §8.3 (and §8.2's 504), as the server writes them.
REPLIES = {
    "5.7.3": (535, "5.7.3 Authentication unsuccessful [AM0PR01CA0123.eurprd01.prod.exchangelabs.com]"),
    "5.7.139-tenant": (
        535,
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
        "Visit https://aka.ms/smtp_auth_disabled for more information.",
    ),
    "5.7.139-mailbox": (
        535,
        "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated "
        "successfully. Contact your administrator.",
    ),
    "5.7.139-security-defaults": (
        535,
        "5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy.",
    ),
    "5.7.57": (530, "5.7.57 Client not authenticated to send mail"),
    "5.2.252": (554, "5.2.252 SendAsDenied; relay@contoso.com not allowed to send as boss@contoso.com"),
    "5.7.60": (550, "5.7.60 SMTP; Client does not have permissions to send as this sender"),
    "4.7.66": (421, "4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2"),
    "5.7.0-rate": (554, "5.7.0 Message submission rate for this client has exceeded the configured limit"),
    "4.4.2": (
        421,
        "4.4.2 Message submission rate for this client has exceeded the configured limit. Too many concurrent connections",
    ),
    "5.7.4": (504, "5.7.4 Unrecognized authentication type"),
}
CTX = SmtpContext(
    tenant="8c7e6f0a-3b1d-4c2e-9f5a-1d2e3f4a5b6c",
    client_id="4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d",
    sender="o'brien@contoso.com",
    service_principal_id="e7d6c5b4-a3f2-4e1d-9c0b-a9f8e7d6c5b4",
)


def error(key: str) -> SmtpReplyError:
    code, text = REPLIES[key]
    return SmtpReplyError(command="AUTH XOAUTH2", code=code, text=text, host="smtp.office365.com")


def test_every_reference_reply_has_its_own_entry():
    assert set(REPLIES) == set(SMTP_REPLIES)
    assert {smtp_entry_key(error(k)) for k in REPLIES} == set(SMTP_REPLIES)


@pytest.mark.parametrize("key", list(REPLIES))
def test_reply_is_explained_with_its_enhanced_code(key):
    diagnosis = diagnose_smtp(error(key), CTX)
    assert diagnosis.code == enhanced_status(REPLIES[key][1]) and diagnosis.code
    assert diagnosis.fixes and diagnosis.reference.startswith("https://learn.microsoft.com/")
    assert "{" not in format_diagnosis(diagnosis).replace('{"', "")  # every template value was filled


def test_5_7_3_lists_its_causes_in_the_order_to_check_them_with_filled_commands():
    fixes = diagnose_smtp(error("5.7.3"), CTX).fixes
    order = ["Graph token", "SMTP.SendAsApp", "not registered", "wrong object ID", "No permission on the mailbox"]
    assert [next(i for i, f in enumerate(fixes) if needle in f) for needle in order] == list(range(5))
    text = "\n".join(fixes)
    assert (
        "New-ServicePrincipal -AppId '4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d' -ObjectId 'e7d6c5b4-a3f2-4e1d-9c0b-a9f8e7d6c5b4'"
        in text
    )
    assert (
        "ENTERPRISE APPLICATION (service principal)" in text
        and "NOT the Object ID on the App registrations page" in text
    )
    assert "Get-ServicePrincipal | Where-Object AppId -eq '4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d'" in text
    # an apostrophe in the mailbox is doubled inside PowerShell's single quotes (consent.quote_powershell)
    assert (
        "Add-MailboxPermission -Identity 'o''brien@contoso.com' -User 'e7d6c5b4-a3f2-4e1d-9c0b-a9f8e7d6c5b4' -AccessRights FullAccess"
        in text
    )


def test_switch_entries_name_the_exact_powershell():
    tenant = "\n".join(diagnose_smtp(error("5.7.139-tenant"), CTX).fixes)
    assert "Set-TransportConfig -SmtpClientAuthenticationDisabled $false" in tenant
    mailbox = "\n".join(diagnose_smtp(error("5.7.139-mailbox"), CTX).fixes)
    assert "Set-CASMailbox -Identity 'o''brien@contoso.com' -SmtpClientAuthenticationDisabled $false" in mailbox
    assert "Get-CASMailbox -Identity 'o''brien@contoso.com' | fl SmtpClientAuthenticationDisabled" in mailbox


def test_unknown_values_stay_unquoted_placeholders():
    text = "\n".join(diagnose_smtp(error("5.7.3"), SmtpContext()).fixes)
    assert "New-ServicePrincipal -AppId <application-client-id> -ObjectId <enterprise-app-object-id>" in text
    assert "-Identity <sender-mailbox>" in text


def test_hostile_values_cannot_break_out_of_the_quotes():
    hostile = SmtpContext(client_id="x'; Remove-Mailbox -Identity *; '", sender="a@b.c")
    text = "\n".join(diagnose_smtp(error("5.7.3"), hostile).fixes)
    assert "-AppId 'x''; Remove-Mailbox -Identity *; '''" in text


def test_findings_are_explained():
    for code in SMTP_FINDINGS:
        diagnosis = diagnose_smtp(code, CTX)
        assert diagnosis.code == code and diagnosis.title and diagnosis.fixes


def test_generic_diagnose_hands_smtp_replies_to_the_smtp_catalog():
    assert diagnose(error("5.7.57")).title == diagnose_smtp(error("5.7.57")).title


def test_an_unknown_reply_still_shows_its_text():
    unknown = SmtpReplyError(command="DATA", code=550, text="5.9.99 Something new {odd}", host="h")
    diagnosis = diagnose_smtp(unknown)
    assert diagnosis.code == "5.9.99" and "550" in diagnosis.title
    assert dict(diagnosis.details)["Reply"] == "550 5.9.99 Something new {odd}"
