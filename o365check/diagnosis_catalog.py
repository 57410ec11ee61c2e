"""The diagnosis catalog: what each error code or finding means and how to fix it.

Data only; ``diagnosis.py`` picks an entry and fills in the user's values. Text in ``{braces}`` is
filled from the context: ``{tenant}``, ``{client_id}``, ``{sender}``, ``{portal}``, ``{login_host}``,
``{graph_host}``, ``{graph_scope}``, ``{token_url}``, ``{consent_url}``, ``{permissions_hint}``,
``{scoping_policy}``, ``{scoping_rbac}``, ``{scoping_verify}``, and from the error itself:
``{host}``, ``{reason}``, ``{retry_after}`` (these three only in entries for such errors). Facts: reference/o365-facts.md §1.4, §3, §4.3, §5, §6.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AADSTS", "FINDINGS", "GRAPH", "GRAPH_VARIANTS", "Entry", "FALLBACKS"]


@dataclass(frozen=True)
class Entry:
    """One catalog entry, before the user's values are filled in."""

    title: str
    explanation: str
    fixes: tuple[str, ...]
    reference: str


# Sources (reference/o365-facts.md "Source key"), as learn.microsoft.com pages.
_LEARN = "https://learn.microsoft.com"
ENTRA_CC = f"{_LEARN}/entra/identity-platform/v2-oauth2-client-creds-grant-flow"
ENTRA_ERR = f"{_LEARN}/entra/identity-platform/reference-error-codes"
ENTRA_CLAIMS = f"{_LEARN}/entra/identity-platform/access-token-claims-reference"
ENTRA_AT = f"{_LEARN}/entra/identity-platform/access-tokens"
ENTRA_CERT = f"{_LEARN}/entra/identity-platform/certificate-credentials"
ENTRA_NC = f"{_LEARN}/entra/identity-platform/authentication-national-cloud"
ENTRA_AC = f"{_LEARN}/entra/identity-platform/v2-admin-consent"
ENTRA_GAC = f"{_LEARN}/entra/identity/enterprise-apps/grant-admin-consent"
G_SEND = f"{_LEARN}/graph/api/user-sendmail"
G_ERR = f"{_LEARN}/graph/errors"
G_AAP = f"{_LEARN}/graph/auth-limit-mailbox-access"
G_THR = f"{_LEARN}/graph/throttling-limits#outlook-service-limits"
G_THROTTLING = f"{_LEARN}/graph/throttling"
G_DEP = f"{_LEARN}/graph/deployments"
EXO_RBAC = f"{_LEARN}/exchange/permissions-exo/application-rbac"


def _error_page(code: int) -> str:
    """The documented lookup page for one AADSTS code (the ``error_uri`` of §1.3)."""
    return f"https://login.microsoftonline.com/error?code={code}"


_CONSENT_FIXES = (
    "{permissions_hint}",
    "Or have a Privileged Role Administrator / Global Administrator open {consent_url} and accept.",
    "Get a NEW token afterwards: a token issued before consent keeps lacking the Mail.Send role.",
)
_NEW_SECRET = (
    "Entra admin center > App registrations > {app} > Certificates & secrets > New client secret; "
    "copy the Value column (not the Secret ID) right away - it is shown only once."
)
_COPY_TENANT = "Entra admin center > Overview: copy 'Tenant ID' (a GUID) into AZURE_TENANT_ID."
_COPY_CLIENT = (
    "Entra admin center > App registrations > {app} > Overview: copy 'Application (client) ID' into AZURE_CLIENT_ID."
)
_DECODE = (
    "To read a token your app got, claim by claim with a verdict, paste it into: o365check token decode "
    "(o365check token gets a fresh one and checks it)"
)
_BACK_OFF = (
    "Wait, then retry with exponential back-off (1 s, 2 s, 4 s...) and honour Retry-After when given.",
    "Cache the token (MSAL does) instead of requesting a new one per message.",
)

# AADSTS codes of the token endpoint and discovery (reference §1.4).
AADSTS: dict[int, Entry] = {
    90002: Entry(
        "The tenant was not found",
        "The identity platform does not know tenant '{tenant}' on {login_host}. The tenant ID or domain has a typo, "
        "is a placeholder, or belongs to another Microsoft cloud.",
        (
            _COPY_TENANT,
            "If the tenant is in a national cloud (US Government, China), set the cloud to match "
            "(O365CHECK_CLOUD=usgov, usgov-dod or china).",
        ),
        ENTRA_ERR,
    ),
    900023: Entry(
        "The tenant ID is not a GUID or a domain",
        "'{tenant}' is neither a valid tenant GUID nor a domain name: usually a placeholder such as {{{{tenantid}}}}, "
        "'undefined', a GUID with a missing character, or a full token URL pasted as the tenant.",
        (_COPY_TENANT, "Use only the GUID or the domain (contoso.onmicrosoft.com), not a URL."),
        _error_page(900023),
    ),
    700016: Entry(
        "The application was not found in this tenant",
        "No app with client ID '{client_id}' exists in tenant '{tenant}'. The value is not the Application (client) ID "
        "(an Object ID or a Secret ID was pasted), or the app is registered in another tenant.",
        (
            "Entra admin center > App registrations > All applications: find your app by its display name (not by "
            "this ID), open Overview and copy 'Application (client) ID' into AZURE_CLIENT_ID.",
            "Check the tenant: the app must be registered in (or consented to by) tenant '{tenant}'.",
            "A Secret ID pasted as the client ID gives this error; a Secret ID pasted as the secret gives AADSTS7000215.",
        ),
        ENTRA_ERR,
    ),
    7000215: Entry(
        "The client secret is wrong (often the secret ID was used instead of its value)",
        "The secret sent is not a valid secret of app '{client_id}'. The most common cause is pasting the Secret ID "
        "(a GUID) instead of the secret Value; also a secret of another app, a deleted secret, a stale environment "
        "variable, or special characters (+ & =) not URL-encoded in a hand-built request body.",
        (
            _NEW_SECRET,
            "Put the Value in AZURE_CLIENT_SECRET (or the Postman 'client_secret' variable) and run the check again.",
            "In a hand-built Postman/curl body, use x-www-form-urlencoded so the secret is encoded.",
        ),
        ENTRA_ERR,
    ),
    7000222: Entry(
        "The client secret has expired",
        "Every secret of app '{client_id}' that matches has passed its expiry date (secrets last at most 24 months).",
        (
            _NEW_SECRET,
            "Update every place that stores the old secret, then delete the expired one.",
            "Consider a certificate credential instead: https://aka.ms/certCreds",
        ),
        ENTRA_ERR,
    ),
    7000218: Entry(
        "No client secret or certificate was sent",
        "The token request carried neither client_secret nor client_assertion: the secret is empty (an unset "
        "environment variable), or the app was called as a public client.",
        (
            "Set AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) and check that it is not empty.",
            "In Postman, check the Body tab sends client_secret as x-www-form-urlencoded.",
        ),
        ENTRA_ERR,
    ),
    7000216: Entry(
        "The client-credentials request has no credential",
        "A client_credentials token request needs client_secret, client_assertion or request; none was sent.",
        ("Set AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) and check that it is not empty.",),
        ENTRA_ERR,
    ),
    1002012: Entry(
        "The scope must end in /.default",
        "The client-credentials flow only accepts '<resource>/.default'; a permission name such as Mail.Send or "
        "https://graph.microsoft.com/Mail.Send is refused. The permissions come from the app registration instead.",
        ("Request scope {graph_scope} (nothing else).",),
        ENTRA_CC,
    ),
    70011: Entry(
        "The scope is not valid",
        "The scope value is malformed or names a permission; a library may also have appended 'openid "
        "offline_access profile', which client credentials does not accept.",
        ("Request scope {graph_scope} only.",),
        ENTRA_ERR,
    ),
    700022: Entry(
        "The scopes name more than one resource",
        "A client-credentials request may ask for one resource only, as '<resource>/.default'.",
        ("Request scope {graph_scope} only.",),
        ENTRA_ERR,
    ),
    700023: Entry(
        "The scope names no resource",
        "The scope has no resource (application ID URI) in front of /.default.",
        ("Request scope {graph_scope} only.",),
        ENTRA_ERR,
    ),
    500011: Entry(
        "The resource in the scope was not found in the tenant",
        "The scope names a resource that does not exist in tenant '{tenant}': a typo such as "
        "https://https://graph.microsoft.com, a scope without https://, or another cloud's Graph host.",
        (
            "Request scope {graph_scope} exactly.",
            "Check that the tenant '{tenant}' is the one the app is registered in.",
        ),
        ENTRA_ERR,
    ),
    901002: Entry(
        "The 'resource' parameter was sent to the v2.0 endpoint",
        "'resource' belongs to the old v1 endpoint; the v2.0 endpoint ({token_url}) takes 'scope'.",
        ("Replace resource=https://{graph_host} with scope={graph_scope}, or call the v1 endpoint .../oauth2/token.",),
        ENTRA_ERR,
    ),
    900144: Entry(
        "A required form field is missing from the token request",
        "The body lacks grant_type, client_id or scope. Usually the body was sent as JSON or the fields were put "
        "in the URL query string, so the identity platform saw an empty form.",
        (
            "Send the body as application/x-www-form-urlencoded (Postman: Body > x-www-form-urlencoded) with "
            "grant_type=client_credentials, client_id, client_secret and scope={graph_scope}.",
        ),
        ENTRA_ERR,
    ),
    90014: Entry(
        "A required field is missing from the token request",
        "Older wording of AADSTS900144: a form field such as scope or client_id is missing.",
        ("Send the body as application/x-www-form-urlencoded with grant_type, client_id, client_secret and scope.",),
        ENTRA_ERR,
    ),
    9002313: Entry(
        "The token request is malformed",
        "The request could not be parsed: broken encoding or the wrong Content-Type.",
        ("Send the body as application/x-www-form-urlencoded, UTF-8, with each value URL-encoded.",),
        ENTRA_ERR,
    ),
    700027: Entry(
        "The certificate is not registered on the app (client assertion signature invalid)",
        "The client assertion was signed with a key that app '{client_id}' does not know: the certificate was "
        "uploaded to another app, the private key does not match it, or the thumbprint differs.",
        (
            "Entra admin center > App registrations > {app} > Certificates & secrets > Certificates: upload the "
            "public certificate (.cer/.pem) whose private key AZURE_CLIENT_CERTIFICATE_PATH holds.",
            "Compare the thumbprint in the error with the Thumbprint column there.",
        ),
        ENTRA_ERR,
    ),
    700024: Entry(
        "The client assertion is outside its valid time range",
        "The signed client assertion's nbf/exp do not cover the current time: clock skew, a wrong time zone when "
        "building it by hand, or a cached assertion reused too late.",
        (
            "Synchronise the machine clock (NTP).",
            "Build a fresh assertion per request with exp 5-10 minutes ahead (MSAL does this).",
        ),
        ENTRA_CERT,
    ),
    50012: Entry(
        "The client assertion or certificate is invalid",
        "Older wording for an invalid client assertion: wrong signature, audience or certificate.",
        (
            "Upload the matching public certificate to the app and build the assertion per the certificate-credentials "
            "format (aud = {token_url}).",
        ),
        ENTRA_ERR,
    ),
    50013: Entry(
        "The assertion is invalid",
        "The assertion failed validation (an older or on-behalf-of variant of the certificate errors).",
        ("Upload the matching public certificate to the app and build a fresh assertion.",),
        ENTRA_ERR,
    ),
    700025: Entry(
        "The app is a public client and cannot use a secret",
        "App '{client_id}' is configured as a public client, so client credentials are refused.",
        ("Entra admin center > App registrations > {app} > Authentication: set 'Allow public client flows' to No.",),
        ENTRA_ERR,
    ),
    7000112: Entry(
        "The application is disabled",
        "The app's service principal (Enterprise application) is disabled in tenant '{tenant}', by an admin or "
        "by Microsoft (for example an unverified publisher flagged for consent phishing).",
        (
            "Entra admin center > Enterprise applications > the app > Properties: set 'Enabled for users to sign in' "
            "to Yes (or: az ad sp update --id {client_id} --set accountEnabled=true).",
            "If Microsoft disabled it, register a new app.",
        ),
        ENTRA_ERR,
    ),
    53003: Entry(
        "Conditional Access blocked the token",
        "A Conditional Access policy for workload identities (it needs Workload Identities Premium) blocks this "
        "service principal, for example by location or risk. Policies for users do not affect client credentials.",
        (
            "Entra admin center > Monitoring > Sign-in logs > Service principal sign-ins: find the failure and the "
            "policy that applied.",
            "Adjust the policy (named locations, risk) or exclude this service principal.",
        ),
        ENTRA_ERR,
    ),
    530032: Entry(
        "A tenant security policy blocked the sign-in",
        "The tenant's security policy blocks this sign-in.",
        ("Ask the tenant's security administrator which policy applies to the service principal.",),
        ENTRA_ERR,
    ),
    530035: Entry(
        "Security defaults blocked the sign-in",
        "The tenant's security defaults block this sign-in.",
        ("Ask the tenant's administrator to review security defaults for this app.",),
        ENTRA_ERR,
    ),
    9001023: Entry(
        "Client credentials cannot use the /common or /consumers endpoint",
        "The token URL used 'common' or 'consumers' instead of the tenant; an app-only token always belongs to "
        "one tenant.",
        ("Use the tenant-specific token URL {token_url}.",),
        ENTRA_ERR,
    ),
    50196: Entry(
        "Too many identical token requests (loop detected)",
        "The same token request arrived too often in a short time, usually a retry loop without token caching.",
        _BACK_OFF,
        ENTRA_ERR,
    ),
    90055: Entry("The tenant is throttled", "Too many requests for this tenant right now.", _BACK_OFF, ENTRA_ERR),
    90024: Entry(
        "The identity platform is busy (transient)", "A transient failure on Microsoft's side.", _BACK_OFF, ENTRA_ERR
    ),
    50033: Entry(
        "The identity platform had a transient error", "A transient failure on Microsoft's side.", _BACK_OFF, ENTRA_ERR
    ),
    90006: Entry(
        "The identity platform had a transient error (retry)",
        "A transient failure on Microsoft's side.",
        _BACK_OFF,
        ENTRA_ERR,
    ),
    90038: Entry(
        "The tenant belongs to another national cloud",
        "Tenant '{tenant}' lives in a different Microsoft cloud than {login_host}; tokens are not interchangeable "
        "across clouds.",
        ("Set the cloud to the tenant's one (O365CHECK_CLOUD=global, usgov, usgov-dod or china).",),
        ENTRA_NC,
    ),
    # Codes of other flows that people search for; explained as "not a client-credentials error" (§1.4).
    65001: Entry(
        "Consent is missing (not a client-credentials error)",
        "AADSTS65001 comes from delegated (user) flows. With client credentials, a missing consent does not stop "
        "the token; the token comes without the Mail.Send role and Graph refuses the send.",
        _CONSENT_FIXES,
        ENTRA_CC,
    ),
    650057: Entry(
        "The resource is not in the app's requested permissions (not a client-credentials error)",
        "AADSTS650057 comes from delegated/on-behalf-of flows. For client credentials, add Mail.Send as an "
        "Application permission and grant admin consent.",
        _CONSENT_FIXES,
        ENTRA_CC,
    ),
    50034: Entry(
        "The user account does not exist (not a client-credentials error)",
        "AADSTS50034 is a user sign-in error; the client-credentials flow signs in no user.",
        (
            "Use the client-credentials request: grant_type=client_credentials with client_id, client_secret and "
            "scope={graph_scope}, no username or password.",
        ),
        ENTRA_ERR,
    ),
    50126: Entry(
        "Invalid username or password (not a client-credentials error)",
        "AADSTS50126 is a user sign-in (password grant) error; the client-credentials flow signs in no user.",
        ("Use grant_type=client_credentials with client_id, client_secret and scope={graph_scope}.",),
        ENTRA_ERR,
    ),
    900971: Entry(
        "No reply address was given (admin-consent page, not the token request)",
        "AADSTS900971 comes from the browser admin-consent/authorize step when no redirect URI is registered or sent.",
        ("Open the minimal admin-consent URL {consent_url}, or grant consent in the portal: {permissions_hint}",),
        ENTRA_AC,
    ),
}

# Graph codes (reference §4.3). Codes whose message means different things are split into variants.
GRAPH: dict[str, Entry] = {
    "InvalidAuthenticationToken#expired": Entry(
        "The access token has expired or is not yet valid",
        "Graph refused the token because of its lifetime: it expired, or the machine clock is off.",
        ("Get a new token (MSAL's cache does this automatically) and synchronise the machine clock.",),
        G_ERR,
    ),
    "InvalidAuthenticationToken#audience": Entry(
        "The access token is for another API (invalid audience)",
        "The token's 'aud' is not {graph_audience}: the scope asked for another resource (Outlook, Azure "
        "Resource Manager...) or another cloud's Graph.",
        ("Request the token with scope {graph_scope}.", _DECODE),
        G_ERR,
    ),
    "InvalidAuthenticationToken#compact": Entry(
        "The access token could not be read (CompactToken)",
        "Graph could not parse the token: it is truncated, not a JWT, a personal Microsoft account token, or "
        "the 'Bearer ' prefix is doubled or missing.",
        ("Send 'Authorization: Bearer <access_token>' with the complete access_token from the token response.",),
        G_ERR,
    ),
    "InvalidAuthenticationToken#empty": Entry(
        "No access token was sent",
        "The Authorization header was missing or empty (an unset Postman variable, or the token step did not run).",
        (
            "Send 'Authorization: Bearer <access_token>'; in Postman check the Authorization tab and the token variable.",
        ),
        G_ERR,
    ),
    "InvalidAuthenticationToken": Entry(
        "Graph rejected the access token",
        "The token is not valid for Graph.",
        ("Get a new token with scope {graph_scope} and send it as 'Authorization: Bearer <token>'.", _DECODE),
        G_ERR,
    ),
    "NoPermissionsInAccessToken": Entry(
        "The token has no permissions (Mail.Send not granted as an application permission)",
        "The token carries no 'roles': Mail.Send was added as a Delegated permission only, or the Application "
        "permission was never admin-consented.",
        _CONSENT_FIXES,
        ENTRA_CC,
    ),
    "ErrorAccessDenied#policy": Entry(
        "The sender is outside the app's application access policy",
        "Exchange Online blocked the app for {sender}: an Application Access Policy (RestrictAccess) exists for "
        "the app and the mailbox is not in its group. Changes take more than an hour to reach Graph. (Other "
        "'Access to OData is disabled' causes: EWS allow/block lists for the organisation.)",
        (
            "Add {sender} to the policy's mail-enabled security group.",
            "Check: {scoping_verify}",
            "Wait at least an hour after a policy change, then retry.",
        ),
        G_AAP,
    ),
    "ErrorAccessDenied": Entry(
        "Access denied: the token lacks Mail.Send for this mailbox",
        "The token is valid but not allowed to send as {sender}: it has roles but not Mail.Send, or Exchange "
        "refuses the app for this mailbox (RBAC for Applications scope, or a grant still propagating).",
        (
            "{permissions_hint}",
            "Get a new token and check that its roles contain Mail.Send: o365check token (or paste a token your app "
            "got into o365check token decode).",
            "If RBAC for Applications is used: {scoping_verify}; grants take 30 minutes to 2 hours.",
        ),
        G_ERR,
    ),
    "ErrorSendAsDenied": Entry(
        "The app may not send as the 'from' address",
        "message.from (or sender) names a different mailbox than the one in the URL, and the URL's mailbox has no "
        "Send As right on it.",
        (
            "Call /users/<the from address>/sendMail instead, or remove 'from' from the message.",
            "Or grant Send As on that mailbox to {sender} in the Exchange admin center.",
        ),
        G_SEND,
    ),
    "ErrorInvalidUser": Entry(
        "The sender mailbox does not exist",
        "'{sender}' is not a user in tenant '{tenant}': a typo, an alias whose primary address is on another "
        "domain, or an external address.",
        (
            "Check the spelling, then use the mailbox's user principal name as shown in Microsoft 365 admin center > "
            "Users > Active users (or > Teams & groups > Shared mailboxes).",
        ),
        G_SEND,
    ),
    "ResourceNotFound": Entry(
        "The sender has no mailbox (resource not found)",
        "The user exists but has no Exchange Online mailbox, usually because no licence with Exchange Online is "
        "assigned, or it was assigned less than ~15 minutes ago.",
        (
            "Assign a licence that includes Exchange Online to {sender}, or use a shared mailbox (no licence needed).",
            "After licensing, wait for the mailbox to be provisioned, then retry.",
        ),
        G_SEND,
    ),
    "MailboxNotEnabledForRESTAPI": Entry(
        "The sender has no usable Exchange Online mailbox (no licence, inactive or on-premises)",
        "Graph cannot use the mailbox of {sender}: no Exchange Online licence, an on-premises (hybrid) mailbox, "
        "a guest user, or a soft-deleted mailbox.",
        (
            "Assign a licence that includes Exchange Online (or use a shared mailbox in Exchange Online).",
            "Hybrid: the mailbox must be in Exchange Online for Graph app-only sendMail.",
        ),
        G_SEND,
    ),
    "BadRequest#me": Entry(
        "/me cannot be used with an app-only token",
        "/me means 'the signed-in user'; client credentials sign in no user.",
        ("Call https://{graph_host}/v1.0/users/{sender}/sendMail instead.",),
        G_SEND,
    ),
    "BadRequest#nesting": Entry(
        'The message fields are not inside "message"',
        'Graph expects {{"message": {{subject, body, toRecipients...}}, "saveToSentItems": ...}}; the fields were '
        "sent at the top level or nested wrongly.",
        ('Wrap the message fields in a "message" object.',),
        G_SEND,
    ),
    "BadRequest": Entry(
        "Graph refused the request as malformed",
        "The sendMail request is not what Graph expects.",
        ("Compare the body with the documented sendMail example (message, saveToSentItems).",),
        G_SEND,
    ),
    "ErrorInvalidRecipients": Entry(
        "A recipient address is not valid",
        "A recipient is malformed, several addresses were put in one address string ('a@x; b@y'), or there are no "
        "recipients.",
        ('Use one {{"emailAddress": {{"address": ...}}}} object per recipient, each a single valid address.',),
        G_SEND,
    ),
    "RequestBodyRead#type": Entry(
        "The JSON body has a value of the wrong type",
        "A field has the wrong JSON type (a number where a string is expected) or contentBytes is not valid Base64.",
        ("Send strings for text fields and standard Base64 in contentBytes.",),
        G_SEND,
    ),
    "RequestBodyRead#content-type": Entry(
        "The Content-Type header is missing or wrong",
        "Graph could not match the request's content type.",
        ("Send 'Content-Type: application/json' (or text/plain for Base64 MIME).",),
        G_SEND,
    ),
    "RequestBodyRead": Entry(
        "Graph could not read the request body",
        "The body is not valid sendMail JSON.",
        ("Validate the JSON and its field types.",),
        G_SEND,
    ),
    "ErrorInvalidRequest": Entry(
        "The request body could not be read",
        "The JSON could not be parsed.",
        ("Validate the JSON (quotes, commas, braces) and send Content-Type: application/json.",),
        G_SEND,
    ),
    "ErrorMimeContentInvalidBase64String": Entry(
        "The MIME content is not valid Base64",
        "A text/plain sendMail body must be the whole MIME message in Base64.",
        ("Base64-encode the complete MIME message (standard alphabet, no line breaks).",),
        G_SEND,
    ),
    "RequestEntityTooLarge": Entry(
        "The request is larger than 4 MB",
        "sendMail accepts about 4 MB per request, and Base64 makes attachments a third larger.",
        ("For larger attachments, create a draft, attach with an upload session (up to 150 MB), then send it.",),
        G_SEND,
    ),
    "ErrorMessageSizeExceeded": Entry(
        "The message is larger than the allowed size",
        "The message exceeds the mailbox's or organisation's message size limit.",
        ("Send smaller attachments, or a link instead of the file.",),
        G_SEND,
    ),
    "ApplicationThrottled": Entry(
        "The app is throttled for this mailbox",
        "More than 4 concurrent requests, or more than 10,000 requests in 10 minutes, for this app and mailbox.",
        ("Wait the Retry-After time ({retry_after}) before retrying.", "Send to one mailbox one request at a time."),
        G_THR,
    ),
    "TooManyRequests": Entry(
        "Graph is throttling the requests",
        "Too many requests in a short time.",
        ("Wait the Retry-After time ({retry_after}), then retry with back-off.",),
        G_THROTTLING,
    ),
    "serviceNotAvailable": Entry(
        "Graph is temporarily unavailable",
        "A transient failure on Microsoft's side (5xx).",
        (
            "Retry after Retry-After or a few seconds, with back-off.",
            "If it persists, check the Microsoft 365 Service health page in the admin center.",
        ),
        G_ERR,
    ),
}
for _alias, _key in {
    "activityLimitReached": "TooManyRequests",
    "UnknownError": "serviceNotAvailable",
    "generalException": "serviceNotAvailable",
}.items():
    GRAPH[_alias] = GRAPH[_key]

# (lower-case text in the message, catalog key), first match wins; the bare code is the fallback.
GRAPH_VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "InvalidAuthenticationToken": (
        ("audience", "InvalidAuthenticationToken#audience"),
        ("compacttoken", "InvalidAuthenticationToken#compact"),
        ("expired", "InvalidAuthenticationToken#expired"),
        ("not yet valid", "InvalidAuthenticationToken#expired"),
        ("lifetime", "InvalidAuthenticationToken#expired"),
        ("empty", "InvalidAuthenticationToken#empty"),
    ),
    "ErrorAccessDenied": (
        ("raop", "ErrorAccessDenied#policy"),
        ("access to odata is disabled", "ErrorAccessDenied#policy"),
    ),
    "BadRequest": (
        ("/me request", "BadRequest#me"),
        ("maximum request length", "RequestEntityTooLarge"),
        ("does not exist on type", "BadRequest#nesting"),
    ),
    "RequestBodyRead": (("mime type", "RequestBodyRead#content-type"), ("cannot convert", "RequestBodyRead#type")),
}

_SECRET_FIX = (_NEW_SECRET, "Put the Value in AZURE_CLIENT_SECRET (never the Secret ID).")

# Findings emitted by settings.py, claims.py and doctor.py (Problem.code or plain strings).
FINDINGS: dict[str, Entry] = {
    # settings
    "tenant-missing": Entry(
        "The tenant ID is missing", "No tenant was given, so there is no token URL to call.", (_COPY_TENANT,), ENTRA_CC
    ),
    "tenant-is-url": Entry(
        "The tenant is a URL, not a tenant ID",
        "A full login or token URL was given where only the tenant ID or domain belongs.",
        (_COPY_TENANT, "Keep only the part after {login_host}/ (a GUID or contoso.onmicrosoft.com)."),
        ENTRA_CC,
    ),
    "tenant-is-placeholder": Entry(
        "The tenant ID is still a placeholder",
        "The tenant looks like an example value ({{{{tenantId}}}}, <tenant>, 00000000-...), not your tenant.",
        (_COPY_TENANT,),
        ENTRA_CC,
    ),
    "tenant-not-specific": Entry(
        "The tenant must be your own tenant, not common/organizations/consumers",
        "An app-only token belongs to one tenant; /common and /consumers fail with AADSTS9001023 and "
        "/organizations is deprecated for client credentials.",
        (_COPY_TENANT,),
        ENTRA_CC,
    ),
    "tenant-invalid": Entry(
        "The tenant ID is not a GUID or a domain",
        "The tenant must be the Directory (tenant) ID GUID or a verified domain such as contoso.onmicrosoft.com.",
        (_COPY_TENANT,),
        ENTRA_CC,
    ),
    "client-id-missing": Entry(
        "The client ID is missing", "No Application (client) ID was given.", (_COPY_CLIENT,), ENTRA_CC
    ),
    "client-id-invalid": Entry(
        "The client ID is not a GUID",
        "The Application (client) ID is a GUID such as 11111111-2222-3333-4444-555555555555.",
        (_COPY_CLIENT,),
        ENTRA_CC,
    ),
    "client-id-is-placeholder": Entry(
        "The client ID is still a placeholder",
        "The client ID looks like an example value, not your app's ID.",
        (_COPY_CLIENT,),
        ENTRA_CC,
    ),
    "credential-missing": Entry(
        "No client secret or certificate is configured",
        "The client-credentials flow needs a secret (AZURE_CLIENT_SECRET) or a certificate "
        "(AZURE_CLIENT_CERTIFICATE_PATH).",
        _SECRET_FIX,
        ENTRA_CC,
    ),
    "secret-looks-like-guid": Entry(
        "The client secret ID was used instead of its value",
        "The secret is shaped like a GUID. Secret Values are ~40 random characters (often with ~ . _ -); the GUID "
        "next to them is the Secret ID, which the token endpoint rejects with AADSTS7000215. This is the most "
        "common set-up mistake.",
        _SECRET_FIX,
        ENTRA_ERR,
    ),
    "secret-is-placeholder": Entry(
        "The client secret is still a placeholder",
        "The secret looks like an example value, not a real secret.",
        _SECRET_FIX,
        ENTRA_CC,
    ),
    "secret-has-whitespace": Entry(
        "The client secret has spaces or line breaks around it",
        "Copying from the portal or a file added whitespace; the token endpoint would reject the secret.",
        ("Remove the leading/trailing spaces or newline from AZURE_CLIENT_SECRET (check the .env file quoting).",),
        ENTRA_ERR,
    ),
    "certificate-unreadable": Entry(
        "The certificate file cannot be used",
        "AZURE_CLIENT_CERTIFICATE_PATH must name a PEM file holding the private key and the certificate.",
        (
            "Export the certificate with its private key as PEM (openssl pkcs12 -in cert.pfx -out cert.pem -nodes) "
            "and point AZURE_CLIENT_CERTIFICATE_PATH at it.",
            "Upload the public part to App registrations > {app} > Certificates & secrets > Certificates.",
        ),
        ENTRA_CERT,
    ),
    "sender-missing": Entry(
        "The sender mailbox is missing",
        "App-only sendMail needs the mailbox to send as: /users/<sender>/sendMail.",
        ("Set O365CHECK_SENDER to the sender's user principal name (e.g. noreply@contoso.com).",),
        G_SEND,
    ),
    "sender-invalid": Entry(
        "The sender is not an e-mail address",
        "The sender must be the mailbox's user principal name or primary SMTP address (name@domain).",
        ("Set O365CHECK_SENDER to the sender's user principal name.",),
        G_SEND,
    ),
    "recipient-invalid": Entry(
        "The test recipient is not a valid e-mail address",
        "The recipient must be one address such as someone@contoso.com.",
        ("Give one valid address (several recipients each need their own entry).",),
        G_SEND,
    ),
    "cloud-unknown": Entry(
        "The cloud name is not known",
        "The cloud must be one of global, usgov, usgov-dod or china.",
        ("Set O365CHECK_CLOUD to global, usgov, usgov-dod or china.",),
        ENTRA_NC,
    ),
    # claims (reference §3)
    "claims-unreadable": Entry(
        "The access token could not be decoded",
        "The token is not a readable JWT (three Base64url parts), so its claims cannot be checked.",
        ("Use the access_token field of the token response, complete and unchanged.", _DECODE),
        ENTRA_AT,
    ),
    "claims-aud-wrong": Entry(
        "The token is for another API (aud is not Microsoft Graph)",
        "The token's audience is not {graph_audience}; Graph rejects it with 'Invalid audience'.",
        ("Request the token with scope {graph_scope}.", _DECODE),
        ENTRA_CLAIMS,
    ),
    "claims-tid-wrong": Entry(
        "The token is from another tenant",
        "The token's tid is not the configured tenant '{tenant}'.",
        (_COPY_TENANT, _DECODE),
        ENTRA_CLAIMS,
    ),
    "claims-appid-wrong": Entry(
        "The token is for another app",
        "The token's appid is not the configured client ID '{client_id}'.",
        (_COPY_CLIENT, _DECODE),
        ENTRA_CLAIMS,
    ),
    "claims-roles-missing": Entry(
        "The token has no roles: Mail.Send is not granted as an application permission",
        "The token carries no 'roles' claim: the Application permission Mail.Send was not added, or admin consent "
        "was not granted. The token endpoint still issues such tokens; Graph then refuses the send.",
        (*_CONSENT_FIXES, _DECODE),
        ENTRA_CC,
    ),
    "claims-mail-send-missing": Entry(
        "The token has roles but not Mail.Send (delegated permission added instead)",
        "Other application permissions are granted, but not Mail.Send; usually Mail.Send was added as a Delegated "
        "permission, which app-only tokens never carry.",
        ("Remove the Delegated Mail.Send, then: {permissions_hint}", "Get a new token afterwards.", _DECODE),
        ENTRA_CLAIMS,
    ),
    "claims-not-app-only": Entry(
        "The token is a user (delegated) token, not an app-only token",
        "The token has 'scp' or idtyp 'user': it was obtained by a user sign-in, not client credentials.",
        ("Request the token with grant_type=client_credentials and scope {graph_scope}.", _DECODE),
        ENTRA_CLAIMS,
    ),
    "claims-expired": Entry(
        "The access token has expired",
        "The token's exp is in the past (or the local clock is off).",
        ("Get a new token (MSAL's cache does this) and synchronise the machine clock.", _DECODE),
        ENTRA_AT,
    ),
    "no-admin-consent": Entry(
        "Admin consent has not been granted for Mail.Send",
        "The app lists Mail.Send but no administrator granted consent, so tokens carry no Mail.Send role.",
        _CONSENT_FIXES,
        ENTRA_GAC,
    ),
    # doctor
    "mail-send-tenant-wide": Entry(
        "Mail.Send lets this app send as any mailbox in the tenant",
        "Unless an Application Access Policy or RBAC for Applications already limits it, whoever holds the client "
        "secret can send as any mailbox, not only {sender}.",
        (
            "To limit it to {sender}: o365check scope-mailboxes --client-id {client_id} --sender {sender} prints the "
            "Exchange Online PowerShell commands (RBAC grants are additive: then remove the tenant-wide consent).",
        ),
        G_AAP,
    ),
    "send-ambiguous": Entry(
        "The send may or may not have happened",
        "The sendMail request went out but no answer came back ({reason}). o365check did not send it again, "
        "to avoid a duplicate.",
        ("Look in the Sent Items of {sender}, the recipient's inbox or the Exchange message trace before retrying.",),
        G_SEND,
    ),
    "throttled-wait-exceeded": Entry(
        "Throttled for longer than o365check will wait",
        "Graph asked to wait (Retry-After) longer than the configured maximum wait.",
        ("Run the check again later, or pass a longer --max-wait (in seconds) to wait it out.",),
        G_THR,
    ),
    "service-unreachable": Entry(
        "A Microsoft service could not be reached",
        "Could not connect to {host}: {reason}. Nothing was sent.",
        (
            "Check the network, proxy (HTTPS_PROXY) and firewall allow {host}.",
            "Behind a TLS-inspecting proxy, point REQUESTS_CA_BUNDLE at its CA certificate.",
        ),
        G_DEP,
    ),
}

# Used when nothing above matches; they keep the raw code, message and ids in the details.
FALLBACKS: dict[str, Entry] = {
    "aadsts-unknown": Entry(
        "Unrecognised identity-platform error {code}",
        "The token endpoint refused the request with an error o365check has no advice for yet.",
        (
            "Look the code up at {error_page}.",
            "If that does not help, send support the code, the message, the "
            "Trace ID, Correlation ID and Timestamp below (never the client secret).",
        ),
        ENTRA_ERR,
    ),
    "graph-unknown": Entry(
        "Unrecognised Graph error {code}",
        "Microsoft Graph refused the request with an error o365check has no advice for yet.",
        (
            "Check the Graph error list.",
            "If that does not help, send support the code, the message, the request ID, "
            "client-request ID and date below (never the token).",
        ),
        G_ERR,
    ),
    "discovery-failed": Entry(
        "Tenant discovery failed",
        "The OpenID configuration of tenant '{tenant}' could not be read from {host}: the tenant is unknown in "
        "this cloud, or the host answered with an error.",
        (_COPY_TENANT, "Check the cloud setting matches the tenant's cloud."),
        ENTRA_NC,
    ),
    "settings-several": Entry(
        "Several settings need fixing", "The check cannot start until these settings are fixed.", (), ENTRA_CC
    ),
    "unexpected-error": Entry(
        "Unexpected error: {code}",
        "o365check hit an error it does not know how to explain.",
        ("Send support the message below and the o365check version (the message never contains secrets).",),
        ENTRA_CC,
    ),
}
