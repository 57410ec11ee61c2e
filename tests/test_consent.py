"""consent.py: admin-consent URLs per cloud, and PowerShell commands filled and quoted safely."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from o365check.consent import (
    GROUP_PLACEHOLDER,
    SP_OBJECT_ID_PLACEHOLDER,
    admin_consent_url,
    api_permissions_portal_hint,
    mailbox_scoping,
    quote_powershell,
)

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "contoso.onmicrosoft.com"


@pytest.mark.parametrize(
    ("cloud", "host"),
    [
        ("global", "login.microsoftonline.com"),
        ("usgov", "login.microsoftonline.us"),
        ("usgov-dod", "login.microsoftonline.us"),
        ("china", "login.partner.microsoftonline.cn"),
        ("USGov", "login.microsoftonline.us"),
    ],
)
def test_admin_consent_url_uses_the_clouds_login_host(cloud, host):
    assert (
        admin_consent_url(TENANT, CLIENT_ID, cloud=cloud)
        == f"https://{host}/{TENANT}/adminconsent?client_id={CLIENT_ID}"
    )


def test_admin_consent_url_adds_an_encoded_redirect_uri():
    url = admin_consent_url(TENANT, CLIENT_ID, redirect_uri="https://localhost:5000/done?x=1&y=2")
    parts = urlsplit(url)
    assert parts.path == f"/{TENANT}/adminconsent"
    assert parse_qs(parts.query) == {"client_id": [CLIENT_ID], "redirect_uri": ["https://localhost:5000/done?x=1&y=2"]}
    assert "&y=2" not in url  # the redirect's own query is encoded, not merged into ours


def test_admin_consent_url_shows_placeholders_for_unknown_values():
    assert (
        admin_consent_url("", "")
        == "https://login.microsoftonline.com/<tenant-id>/adminconsent?client_id=<application-client-id>"
    )


def test_admin_consent_url_trims_and_encodes_the_tenant():
    assert admin_consent_url(f"  {TENANT} ", f" {CLIENT_ID}\n").endswith(
        f"/{TENANT}/adminconsent?client_id={CLIENT_ID}"
    )
    assert "/a%2Fb/adminconsent" in admin_consent_url("a/b", CLIENT_ID)


def test_admin_consent_url_rejects_an_unknown_cloud_by_name():
    with pytest.raises(KeyError, match="unknown cloud 'mars'.*global"):
        admin_consent_url(TENANT, CLIENT_ID, cloud="mars")


@pytest.mark.parametrize(
    ("cloud", "portal"), [("global", "portal.azure.com"), ("usgov", "portal.azure.us"), ("china", "portal.azure.cn")]
)
def test_portal_hint_names_the_clouds_portal_and_the_clicks(cloud, portal):
    hint = api_permissions_portal_hint(CLIENT_ID, cloud)
    assert f"https://{portal}" in hint and CLIENT_ID in hint
    assert "Application permissions > Mail.Send" in hint and "Grant admin consent" in hint


def test_portal_hint_without_client_id():
    assert "App registrations > your app > API permissions" in api_permissions_portal_hint("")


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", "'plain'"),
        ("with space", "'with space'"),
        ("o'brien@contoso.com", "'o''brien@contoso.com'"),
        ("smart\u2019quote", "'smart\u2019\u2019quote'"),
        ('say "hi" $env:X `n', "'say \"hi\" $env:X `n'"),  # nothing expands inside single quotes
        ("", "''"),
    ],
)
def test_quote_powershell_single_quotes_and_doubles_embedded_quotes(value, quoted):
    assert quote_powershell(value) == quoted


def test_mailbox_scoping_fills_every_command_with_the_values():
    s = mailbox_scoping(
        CLIENT_ID,
        "alerts@contoso.com",
        group="Mail Senders",
        service_principal_id="sp-object-id",
        scope_name="Alert senders",
    )
    assert s.access_policy[-1] == (
        f"New-ApplicationAccessPolicy -AppId '{CLIENT_ID}' -PolicyScopeGroupId 'Mail Senders' "
        "-AccessRight RestrictAccess -Description 'Restrict o365check app to chosen senders'"
    )
    assert (
        f"New-ServicePrincipal -AppId '{CLIENT_ID}' -ObjectId 'sp-object-id' -DisplayName 'o365check mail sender'"
        in s.rbac
    )
    assert (
        f"New-ManagementRoleAssignment -App '{CLIENT_ID}' -Role 'Application Mail.Send' "
        "-CustomResourceScope 'Alert senders'"
    ) in s.rbac
    assert any(
        c.startswith("New-ManagementScope -Name 'Alert senders' -RecipientRestrictionFilter \"MemberOfGroup -eq")
        and "(Get-Group 'Mail Senders').DistinguishedName" in c
        for c in s.rbac
    )
    assert s.verify == (
        f"Test-ApplicationAccessPolicy -Identity 'alerts@contoso.com' -AppId '{CLIENT_ID}'",
        "Test-ServicePrincipalAuthorization -Identity 'sp-object-id' -Resource 'alerts@contoso.com'",
    )


def test_mailbox_scoping_without_a_group_scopes_the_rbac_to_the_sender():
    s = mailbox_scoping(CLIENT_ID, "o'brien@contoso.com")
    scope = next(c for c in s.rbac if c.startswith("New-ManagementScope"))
    # OPATH value quoted with doubled apostrophes, then the whole filter as a PowerShell literal.
    assert scope == (
        "New-ManagementScope -Name 'o365check o''brien@contoso.com' "
        "-RecipientRestrictionFilter 'PrimarySmtpAddress -eq ''o''''brien@contoso.com'''"
    )
    assert f"Test-ApplicationAccessPolicy -Identity 'o''brien@contoso.com' -AppId '{CLIENT_ID}'" in s.verify


def test_mailbox_scoping_leaves_placeholders_only_where_values_are_unknown():
    s = mailbox_scoping(CLIENT_ID, "alerts@contoso.com")
    text = s.as_text()
    assert GROUP_PLACEHOLDER in text and SP_OBJECT_ID_PLACEHOLDER in text
    assert "<application-client-id>" not in text and "<sender-mailbox>" not in text
    empty = mailbox_scoping("", "").as_text()
    assert "<application-client-id>" in empty and "<sender-mailbox>" in empty


def test_mailbox_scoping_explains_delays_and_additive_rbac():
    s = mailbox_scoping(CLIENT_ID, "alerts@contoso.com")
    assert "ANY mailbox" in s.explanation
    assert "more than 1 hour" in s.explanation and "30 minutes to 2 hours" in s.explanation
    assert "additive" in s.explanation and "remove" in s.explanation
    text = s.as_text()
    assert text.index("Option A - ") < text.index("New-ApplicationAccessPolicy") < text.index("Option B - ")
