"""Admin consent, and the commands that limit Mail.Send to chosen mailboxes.

Pure: builds URLs and PowerShell command lines from the user's values; runs nothing.
Facts: reference/o365-facts.md §5 (admin consent, clouds) and §6 (access policies, RBAC for Applications).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from .clouds import cloud_named

__all__ = [
    "MailboxScoping",
    "admin_consent_url",
    "api_permissions_portal_hint",
    "mailbox_scoping",
    "quote_powershell",
]

# Shown where the user's value is unknown; the <...> form is what Microsoft's docs use.
GROUP_PLACEHOLDER = "<mail-enabled-security-group>"
SP_OBJECT_ID_PLACEHOLDER = "<enterprise-app-object-id>"
CLIENT_ID_PLACEHOLDER = "<application-client-id>"
TENANT_PLACEHOLDER = "<tenant-id>"
SENDER_PLACEHOLDER = "<sender-mailbox>"

# PowerShell treats the typographic single quotes like ' inside a single-quoted string, so each
# of them must be doubled too (about_Quoting_Rules).
_PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote_powershell(value: str) -> str:
    """``value`` as a PowerShell single-quoted literal: nothing inside is expanded; quotes are doubled."""
    escaped = "".join(ch * 2 if ch in _PS_SINGLE_QUOTES else ch for ch in value)
    return f"'{escaped}'"


def _quote_opath(value: str) -> str:
    """``value`` as a quoted OPATH filter value: apostrophes doubled, as in o'brien@contoso.com."""
    return "'" + value.replace("'", "''") + "'"


def admin_consent_url(tenant: str, client_id: str, *, cloud: str = "global", redirect_uri: str | None = None) -> str:
    """The admin-consent URL the portal's "Grant admin consent" builds, for this cloud's login host.

    ``https://<login host>/<tenant>/adminconsent?client_id=<id>`` (+ ``&redirect_uri=...``),
    reference §5 (ENTRA-CC, ENTRA-GAC). Opening it as a Privileged Role Administrator or Global
    Administrator grants every application permission the app registration lists.
    """
    base = cloud_named(cloud).login_base
    # Placeholders stay readable (<tenant-id>) so the user sees what to fill in.
    path_tenant = quote((tenant or "").strip() or TENANT_PLACEHOLDER, safe="<>")
    query = {"client_id": (client_id or "").strip() or CLIENT_ID_PLACEHOLDER}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    return f"{base}/{path_tenant}/adminconsent?{urlencode(query, safe='<>')}"


def api_permissions_portal_hint(client_id: str, cloud: str = "global") -> str:
    """Where to click to add Mail.Send as an application permission and grant admin consent."""
    portal = cloud_named(cloud).portal_host
    app = f"the app whose Application (client) ID is {client_id}" if client_id else "your app"
    return (
        f"In https://{portal} open Microsoft Entra ID > App registrations > {app} > API permissions: "
        "Add a permission > Microsoft Graph > Application permissions > Mail.Send > Add permissions, "
        "then click 'Grant admin consent for <your tenant>' (needs Privileged Role Administrator or "
        "Global Administrator) and check that the Status column shows a green 'Granted'."
    )


@dataclass(frozen=True)
class MailboxScoping:
    """How to stop an app with tenant-wide Mail.Send from sending as any mailbox (reference §6)."""

    explanation: str
    access_policy: tuple[str, ...]  # §6.1 legacy Application Access Policy commands, in order
    rbac: tuple[str, ...]  # §6.2 RBAC for Applications commands, in order
    verify: tuple[str, ...]  # commands that show whether the sender is in scope

    def as_text(self) -> str:
        """Plain text: explanation, then the two alternatives and the checks."""
        parts = [self.explanation, "", "Option A - Application Access Policy (Exchange Online PowerShell):"]
        parts += [f"  {c}" for c in self.access_policy]
        parts += ["", "Option B - RBAC for Applications (Exchange Online PowerShell):"]
        parts += [f"  {c}" for c in self.rbac]
        parts += ["", "Check:"] + [f"  {c}" for c in self.verify]
        return "\n".join(parts)


def mailbox_scoping(
    client_id: str,
    sender: str,
    *,
    group: str = "",
    service_principal_id: str = "",
    scope_name: str = "",
) -> MailboxScoping:
    """Exchange Online PowerShell commands that limit the app to ``sender`` (or ``group``).

    Values are filled in and quoted for PowerShell; unknown values stay as ``<placeholders>``
    (left unquoted so PowerShell refuses to run the line until they are replaced).
    """
    app = quote_powershell(client_id) if client_id else CLIENT_ID_PLACEHOLDER
    mailbox = quote_powershell(sender) if sender else SENDER_PLACEHOLDER
    scope_group = quote_powershell(group) if group else GROUP_PLACEHOLDER
    sp_id = quote_powershell(service_principal_id) if service_principal_id else SP_OBJECT_ID_PLACEHOLDER
    name = scope_name or (f"o365check {sender}" if sender else "o365check senders")
    scope = quote_powershell(name)
    if group:
        # MemberOfGroup takes the group's distinguished name; Get-Group prints it (reference §6.2).
        scope_filter = (
            f"-RecipientRestrictionFilter \"MemberOfGroup -eq '$((Get-Group {scope_group}).DistinguishedName)'\""
        )
    elif sender:
        scope_filter = "-RecipientRestrictionFilter " + quote_powershell(
            f"PrimarySmtpAddress -eq {_quote_opath(sender)}"
        )
    else:
        scope_filter = "-RecipientRestrictionFilter \"PrimarySmtpAddress -eq '<sender-mailbox>'\""

    access_policy = (
        "Connect-ExchangeOnline",
        # §6.1: the scope must be a mail-enabled security group (or a single user mailbox).
        f"New-ApplicationAccessPolicy -AppId {app} -PolicyScopeGroupId {scope_group} "
        f"-AccessRight RestrictAccess -Description {quote_powershell('Restrict o365check app to chosen senders')}",
    )
    rbac = (
        "Connect-ExchangeOnline",
        f"New-ManagementScope -Name {scope} {scope_filter}",
        # §6.2: the object ID of the Enterprise application (service principal), not the app registration's.
        f"New-ServicePrincipal -AppId {app} -ObjectId {sp_id} -DisplayName {quote_powershell('o365check mail sender')}",
        f"New-ManagementRoleAssignment -App {app} -Role 'Application Mail.Send' -CustomResourceScope {scope}",
    )
    verify = (
        f"Test-ApplicationAccessPolicy -Identity {mailbox} -AppId {app}",
        f"Test-ServicePrincipalAuthorization -Identity {sp_id} -Resource {mailbox}",
    )
    explanation = (
        "Mail.Send as an application permission lets the app send as ANY mailbox in the tenant. "
        "Limit it with one of two Exchange Online features. Option A, an Application Access Policy "
        f"(legacy, still working), restricts the Entra-granted Mail.Send to the members of "
        f"{group or 'a mail-enabled security group'} that contains {sender or 'the sender mailbox'}; "
        "changes can take more than 1 hour to reach Graph even when Test-ApplicationAccessPolicy "
        "already says 'Granted'. Option B, RBAC for Applications (the replacement), grants "
        "'Application Mail.Send' only inside a management scope; its grants are additive, so remove "
        "the tenant-wide Mail.Send application permission (and its admin consent) in Entra, or the "
        "app can still send as anyone. RBAC grants are cached for 30 minutes to 2 hours; "
        "Test-ServicePrincipalAuthorization bypasses that cache. Both need Exchange administrator rights."
    )
    return MailboxScoping(explanation, access_policy, rbac, verify)
