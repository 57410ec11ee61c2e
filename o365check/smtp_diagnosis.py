"""The SMTP AUTH diagnosis catalog: every reply of reference §8.3 and the SMTP claim findings.

Kept apart from ``diagnosis_catalog.py`` (Graph) but built from the same ``Entry``. Each reply
entry lists the causes it can hide **in the order to check them**, with the Exchange Online
PowerShell filled in with the user's values and quoted with ``consent.quote_powershell``;
unknown values stay as unquoted ``<placeholders>`` so PowerShell refuses the line until they are
replaced. ``diagnose_smtp`` picks the entry for an ``SmtpReplyError`` (by enhanced status code and
text) or a finding code, like ``diagnosis.diagnose`` does for Graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from .consent import CLIENT_ID_PLACEHOLDER, SENDER_PLACEHOLDER, SP_OBJECT_ID_PLACEHOLDER, quote_powershell
from .diagnosis import Diagnosis
from .diagnosis_catalog import ENTRA_GAC, Entry
from .redact import Redactor
from .smtp import SmtpReplyError, exchange_cloud

__all__ = ["SMTP_REPLIES", "SMTP_FINDINGS", "SmtpContext", "diagnose_smtp", "smtp_entry_key", "smtp_setup_steps"]

_LEARN = "https://learn.microsoft.com"
# §8 sources, as learn.microsoft.com pages.
SMTP_OAUTH = (
    f"{_LEARN}/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth"
    "#use-client-credentials-grant-flow-to-authenticate-smtp-imap-and-pop-connections"
)
SMTP_AUTH_SWITCH = f"{_LEARN}/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission"
EXO_LIMITS = f"{_LEARN}/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits"
_REDACT = Redactor()


@dataclass(frozen=True)
class SmtpContext:
    """The user's values for the commands; anything may be empty (then a placeholder is shown)."""

    tenant: str = ""
    client_id: str = ""
    sender: str = ""
    user: str = ""  # the XOAUTH2 user= mailbox (default the sender)
    service_principal_id: str = ""  # the token's oid: the Enterprise application's object ID
    cloud: str = "global"
    claims_passed: bool = False


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _values(ctx: SmtpContext, extra: dict[str, str]) -> _Fill:
    exchange = exchange_cloud(ctx.cloud)
    mailbox = ctx.user or ctx.sender
    values = _Fill(
        client_id=ctx.client_id or CLIENT_ID_PLACEHOLDER,
        ps_app=quote_powershell(ctx.client_id) if ctx.client_id else CLIENT_ID_PLACEHOLDER,
        ps_sp=quote_powershell(ctx.service_principal_id) if ctx.service_principal_id else SP_OBJECT_ID_PLACEHOLDER,
        ps_mailbox=quote_powershell(mailbox) if mailbox else SENDER_PLACEHOLDER,
        ps_sp_like=quote_powershell(f"*{ctx.service_principal_id}*")
        if ctx.service_principal_id
        else SP_OBJECT_ID_PLACEHOLDER,
        ps_sender=quote_powershell(ctx.sender) if ctx.sender else SENDER_PLACEHOLDER,
        mailbox=mailbox or SENDER_PLACEHOLDER,
        sender=ctx.sender or SENDER_PLACEHOLDER,
        sp_id=ctx.service_principal_id or SP_OBJECT_ID_PLACEHOLDER,
        scope=exchange.scope,
        audience=exchange.resource,
        smtp_host=exchange.smtp_host,
        claims_note=(
            "The token's audience and SMTP.SendAsApp role were checked in step smtp-claims and are right, "
            "so start with the third cause."
            if ctx.claims_passed
            else "Step smtp-claims shows whether causes 1 and 2 apply."
        ),
    )
    values.update({k: v for k, v in extra.items() if v})
    return values


_OBJECT_ID_NOTE = (
    "-ObjectId is the object ID of the ENTERPRISE APPLICATION (service principal): Entra admin center > "
    "Enterprise applications > your app > Overview > Object ID (it is also the 'oid' claim of your token: {sp_id}). "
    "It is NOT the Object ID on the App registrations page - that one is the classic mistake and gives 535 5.7.3."
)
_REGISTER_SP = (
    "Register the service principal in Exchange Online (ExchangeOnlineManagement, Exchange administrator):\n"
    "Connect-ExchangeOnline\n"
    "New-ServicePrincipal -AppId {ps_app} -ObjectId {ps_sp} -DisplayName 'o365check SMTP sender'\n" + _OBJECT_ID_NOTE
)
_CHECK_SP = (
    "Check what Exchange knows: Get-ServicePrincipal | Where-Object AppId -eq {ps_app} | Format-List "
    "DisplayName,AppId,ObjectId,Identity - ObjectId must equal {sp_id}. If it shows the App registration's "
    "object ID, remove it (Remove-ServicePrincipal -Identity <that ObjectId>) and register it again as above."
)
_MAILBOX_PERMISSION = (
    "Give the service principal rights on the mailbox it authenticates as:\n"
    "Add-MailboxPermission -Identity {ps_mailbox} -User {ps_sp} -AccessRights FullAccess\n"
    "Check: Get-MailboxPermission -Identity {ps_mailbox} | Where-Object User -like {ps_sp_like}"
)
_ENABLE_TENANT = (
    "Enable SMTP AUTH for the organisation: Set-TransportConfig -SmtpClientAuthenticationDisabled $false\n"
    "Check: Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled"
)
_ENABLE_MAILBOX = (
    "Enable SMTP AUTH on the mailbox: Set-CASMailbox -Identity {ps_mailbox} -SmtpClientAuthenticationDisabled $false "
    "(or $null to follow the organisation's setting)\n"
    "Check: Get-CASMailbox -Identity {ps_mailbox} | fl SmtpClientAuthenticationDisabled"
)
_SCOPE_FIX = (
    "Request the token with scope {scope} (not https://graph.microsoft.com/.default): the token's aud must be "
    "{audience}."
)
_ROLE_FIX = (
    "Entra admin center > App registrations > your app ({client_id}) > API permissions > Add a permission > "
    "APIs my organization uses > Office 365 Exchange Online > Application permissions > SMTP.SendAsApp > "
    "Add permissions; then 'Grant admin consent', and get a NEW token."
)

# Replies of reference §8.3, keyed by enhanced status code (plus a variant for the same code).
SMTP_REPLIES: dict[str, Entry] = {
    "5.7.3": Entry(
        "SMTP AUTH was refused: 535 5.7.3 Authentication unsuccessful",
        "Exchange Online accepted the XOAUTH2 exchange but not the app. The reply says nothing more; it hides "
        "one of these causes, in the order to check them. {claims_note}",
        (
            "A token for the wrong resource (a Graph token). " + _SCOPE_FIX,
            "No SMTP.SendAsApp role in the token. " + _ROLE_FIX,
            "The service principal is not registered in Exchange Online. " + _REGISTER_SP,
            "It is registered with the wrong object ID (the App registration's). " + _CHECK_SP,
            "No permission on the mailbox {mailbox}. " + _MAILBOX_PERMISSION,
            "Changes in Exchange take a while to apply: after fixing causes 3 to 5, wait up to 30 minutes and try again.",
        ),
        SMTP_OAUTH,
    ),
    "5.7.139-tenant": Entry(
        "SMTP AUTH is disabled for the whole organisation: 535 5.7.139",
        "The tenant's SmtpClientAuthenticationDisabled is $true (the default for new tenants and the direction "
        "Microsoft is pushing), so every SMTP AUTH is refused before the app or the mailbox is looked at.",
        (
            "" + _ENABLE_TENANT,
            "Or keep it off for the organisation and enable it only on the sending mailbox. " + _ENABLE_MAILBOX,
        ),
        SMTP_AUTH_SWITCH,
    ),
    "5.7.139-mailbox": Entry(
        "SMTP AUTH was refused by policy: 535 5.7.139 (request did not meet the criteria)",
        "Causes in the order to check them: SMTP AUTH disabled on the mailbox {mailbox}; then a Conditional "
        "Access policy or security defaults blocking the sign-in.",
        (
            "" + _ENABLE_MAILBOX,
            "Entra admin center > Sign-in logs > Service principal sign-ins: look for a failure of "
            "{client_id} and the Conditional Access policy that blocked it.",
            "Security defaults block legacy authentication; OAuth client credentials are not legacy, but check "
            "Entra admin center > Overview > Properties > Manage security defaults.",
        ),
        SMTP_AUTH_SWITCH,
    ),
    "5.7.139-security-defaults": Entry(
        "SMTP AUTH was refused by security defaults: 535 5.7.139",
        "'user is locked by your organization's security defaults policy' is what Basic authentication gets; "
        "with OAuth it is rare.",
        (
            "Make sure the client really sends AUTH XOAUTH2 with a token, not AUTH LOGIN with a password.",
            "Replace security defaults with Conditional Access policies if the organisation needs SMTP AUTH.",
        ),
        SMTP_AUTH_SWITCH,
    ),
    "5.7.57": Entry(
        "MAIL FROM without a successful AUTH: 530 5.7.57",
        "The client tried to send before authenticating (or after AUTH failed).",
        (
            "Authenticate first: EHLO, STARTTLS, EHLO, AUTH XOAUTH2, and only then MAIL FROM.",
            "If the app has an 'authentication' switch for SMTP, turn it on and choose OAuth 2.0.",
        ),
        SMTP_OAUTH,
    ),
    "5.2.252": Entry(
        "The authenticated mailbox may not send as this sender: 554 5.2.252 SendAsDenied",
        "The XOAUTH2 user= mailbox ({mailbox}) and MAIL FROM / From ({sender}) differ, and {mailbox} has no "
        "SendAs right on {sender}.",
        (
            "Send as the mailbox in XOAUTH2 user= (set the app's From to {mailbox}), or authenticate as {sender}.",
            "Or grant SendAs: Add-RecipientPermission -Identity {ps_sender} -Trustee {ps_mailbox} -AccessRights SendAs",
        ),
        SMTP_OAUTH,
    ),
    "5.7.60": Entry(
        "The client may not send as this sender: 5.7.60",
        "'Client does not have permissions to send as this sender': MAIL FROM is not the authenticated mailbox.",
        (
            "Send as the mailbox in XOAUTH2 user= ({mailbox}).",
            "Or grant SendAs: Add-RecipientPermission -Identity {ps_sender} -Trustee {ps_mailbox} -AccessRights SendAs",
        ),
        SMTP_OAUTH,
    ),
    "4.7.66": Entry(
        "TLS 1.0 and 1.1 are refused: 421 4.7.66",
        "Exchange Online accepts only TLS 1.2 or later for SMTP client submission.",
        ("Update the client (or its TLS library / .NET / Java runtime) so STARTTLS negotiates TLS 1.2+.",),
        SMTP_AUTH_SWITCH,
    ),
    "5.7.0-rate": Entry(
        "Too many messages: 554 5.7.0 submission rate exceeded",
        "Exchange Online allows 30 messages a minute per mailbox (and 10,000 recipients a day); the mailbox "
        "{mailbox} is over it, possibly because of other apps sending as it.",
        (
            "Slow down: at most 30 messages a minute from one mailbox; queue and retry later, never at once.",
            "Spread the load over several sending mailboxes, or use Graph sendMail / a bulk service for volume.",
        ),
        EXO_LIMITS,
    ),
    "4.4.2": Entry(
        "Too many concurrent connections: 4.4.2",
        "At most 3 concurrent SMTP connections per mailbox are allowed.",
        ("Send over one connection at a time (or at most 3) per mailbox; retry later.",),
        EXO_LIMITS,
    ),
    "5.7.4": Entry(
        "AUTH was sent before STARTTLS: 504 5.7.4 Unrecognized authentication type",
        "Exchange Online offers AUTH only on an encrypted connection: the client sent AUTH on the plain one.",
        (
            "Turn on STARTTLS ('TLS', 'SSL/TLS: STARTTLS', 'Secure: false + requireTLS' in some libraries) on port "
            "587, then EHLO again before AUTH.",
            "Do not use port 465 (implicit TLS) or 25 for client submission: {smtp_host}:587 with STARTTLS.",
        ),
        SMTP_OAUTH,
    ),
}

# Findings of the doctor's own SMTP steps.
SMTP_FINDINGS: dict[str, Entry] = {
    "smtp-claims-graph-token": Entry(
        "This is a Graph token, not an Exchange Online token",
        "The token's audience is Microsoft Graph: the app asked for https://graph.microsoft.com/.default, as for "
        "sendMail. SMTP AUTH refuses it with 535 5.7.3.",
        (_SCOPE_FIX, "Keep the Graph token for Graph calls; get a second token for SMTP (one resource per token)."),
        SMTP_OAUTH,
    ),
    "smtp-claims-aud-wrong": Entry(
        "The token is not for Exchange Online",
        "The token's audience is not {audience}, so SMTP AUTH refuses it with 535 5.7.3.",
        (_SCOPE_FIX,),
        SMTP_OAUTH,
    ),
    "smtp-claims-roles-missing": Entry(
        "The token has no roles: SMTP.SendAsApp is missing or not consented",
        "An app-only token without a roles claim means no application permission of Office 365 Exchange Online "
        "was added, or admin consent was not granted.",
        (_ROLE_FIX,),
        ENTRA_GAC,
    ),
    "smtp-claims-role-missing": Entry(
        "The token lacks the SMTP.SendAsApp role",
        "The token has roles, but not SMTP.SendAsApp (perhaps IMAP.AccessAsApp or POP.AccessAsApp only, or a "
        "delegated SMTP.Send).",
        (_ROLE_FIX,),
        SMTP_OAUTH,
    ),
    "smtp-starttls-missing": Entry(
        "The server does not offer STARTTLS",
        "Exchange Online always offers STARTTLS on port 587; something in between (a proxy, an antivirus, a "
        "wrong host) answered instead.",
        ("Connect to {smtp_host}:587 directly; check the host name and any SMTP proxy.",),
        SMTP_OAUTH,
    ),
}


def smtp_entry_key(error: SmtpReplyError) -> str | None:
    """The catalog key for a reply: its enhanced code, and for shared codes the variant its text names."""
    code = error.error_code
    text = error.text.lower()
    if code == "5.7.139":
        if "disabled for the tenant" in text:
            return "5.7.139-tenant"
        if "security defaults" in text:
            return "5.7.139-security-defaults"
        return "5.7.139-mailbox"
    if code == "5.7.0" and "rate" in text:
        return "5.7.0-rate"
    if code in ("4.4.2",) or "concurrent connections" in text:
        return "4.4.2"
    return code if code in SMTP_REPLIES else None


def diagnose_smtp(subject: SmtpReplyError | str, ctx: SmtpContext | None = None) -> Diagnosis:
    """Explain an SMTP reply or an SMTP finding code, with the user's values filled in."""
    ctx = ctx or SmtpContext()
    if isinstance(subject, SmtpReplyError):
        key = smtp_entry_key(subject)
        details = [
            ("Command", subject.command),
            ("Reply", _REDACT.text(f"{subject.code} {subject.text}")),
            ("Server", subject.host),
        ]
        if subject.challenge:
            details.append(("334 challenge", _REDACT.text(subject.challenge)))
        code = subject.error_code
        if key is None:
            entry = Entry(
                f"The SMTP server refused {subject.command}: {subject.code}".replace("{", "{{").replace("}", "}}"),
                "This reply is not in o365check's catalog; its text is below.",
                ("Search the enhanced status code in Microsoft's documentation; send the reply text to support.",),
                SMTP_OAUTH,
            )
        else:
            entry = SMTP_REPLIES[key]
    else:
        code, details = subject, []
        entry = SMTP_FINDINGS[subject]
    values = _values(ctx, {})
    return Diagnosis(
        title=entry.title.format_map(values),
        explanation=entry.explanation.format_map(values),
        fixes=tuple(fix.format_map(values) for fix in entry.fixes),
        reference=entry.reference,
        code=code,
        details=tuple((k, v) for k, v in details if v),
    )


def smtp_setup_steps(ctx: SmtpContext) -> tuple[str, ...]:
    """Reference §8.1's set-up, in order, with the user's values filled in and quoted."""
    values = _values(ctx, {})
    steps = (
        _ROLE_FIX,
        "Token: client credentials with scope {scope} (not Graph's): aud {audience}, roles SMTP.SendAsApp.",
        _REGISTER_SP,
        _MAILBOX_PERMISSION,
        _ENABLE_TENANT + "\n" + _ENABLE_MAILBOX,
        "Connect to {smtp_host}:587, EHLO, STARTTLS (TLS 1.2+), EHLO, AUTH XOAUTH2 as {mailbox}, MAIL FROM {sender}.",
    )
    return tuple(step.format_map(values) for step in steps)
