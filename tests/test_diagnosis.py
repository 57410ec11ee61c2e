"""diagnosis.py: every catalog entry's title is pinned; unknown codes keep the facts support needs."""

from __future__ import annotations

import pytest

from o365check.diagnosis import Diagnosis, DiagnosisContext, diagnose, format_diagnosis
from o365check.diagnosis_catalog import AADSTS, FINDINGS, GRAPH
from o365check.errors import (
    AmbiguousSendError,
    CollectionLoadError,
    DiscoveryError,
    GraphError,
    Problem,
    ServiceUnreachableError,
    SettingsError,
    TokenError,
    graph_error_class,
)

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SENDER = "no.reply@contoso.com"
CTX = DiagnosisContext(tenant=TENANT, client_id=CLIENT_ID, sender=SENDER)
CONSENT_URL = f"https://login.microsoftonline.com/{TENANT}/adminconsent?client_id={CLIENT_ID}"


def token_error(code: int, text: str = "something went wrong", **extra: str) -> TokenError:
    body = {
        "error": "invalid_client",
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: trace-1\r\nCorrelation ID: corr-1\r\n"
        "Timestamp: 2024-05-01 10:00:00Z",
        "error_codes": [code],
        "trace_id": "trace-1",
        "correlation_id": "corr-1",
        "timestamp": "2024-05-01 10:00:00Z",
        **extra,
    }
    return TokenError.from_response(body, status=400, host="login.microsoftonline.com")


def graph_error(status: int, code: str, message: str, **kw) -> GraphError:
    return graph_error_class(status)(
        status, code, message, request_id="req-1", client_request_id="creq-1", date="2024-05-01T10:00:00", **kw
    )


AADSTS_TITLES = [
    (90002, "The tenant was not found"),
    (900023, "The tenant ID is not a GUID or a domain"),
    (700016, "The application was not found in this tenant"),
    (7000215, "The client secret is wrong (often the secret ID was used instead of its value)"),
    (7000222, "The client secret has expired"),
    (7000218, "No client secret or certificate was sent"),
    (7000216, "The client-credentials request has no credential"),
    (1002012, "The scope must end in /.default"),
    (70011, "The scope is not valid"),
    (700022, "The scopes name more than one resource"),
    (700023, "The scope names no resource"),
    (500011, "The resource in the scope was not found in the tenant"),
    (901002, "The 'resource' parameter was sent to the v2.0 endpoint"),
    (900144, "A required form field is missing from the token request"),
    (90014, "A required field is missing from the token request"),
    (9002313, "The token request is malformed"),
    (700027, "The certificate is not registered on the app (client assertion signature invalid)"),
    (700024, "The client assertion is outside its valid time range"),
    (50012, "The client assertion or certificate is invalid"),
    (50013, "The assertion is invalid"),
    (700025, "The app is a public client and cannot use a secret"),
    (7000112, "The application is disabled"),
    (53003, "Conditional Access blocked the token"),
    (530032, "A tenant security policy blocked the sign-in"),
    (530035, "Security defaults blocked the sign-in"),
    (9001023, "Client credentials cannot use the /common or /consumers endpoint"),
    (50196, "Too many identical token requests (loop detected)"),
    (90055, "The tenant is throttled"),
    (90024, "The identity platform is busy (transient)"),
    (50033, "The identity platform had a transient error"),
    (90006, "The identity platform had a transient error (retry)"),
    (90038, "The tenant belongs to another national cloud"),
    (65001, "Consent is missing (not a client-credentials error)"),
    (650057, "The resource is not in the app's requested permissions (not a client-credentials error)"),
    (50034, "The user account does not exist (not a client-credentials error)"),
    (50126, "Invalid username or password (not a client-credentials error)"),
    (900971, "No reply address was given (admin-consent page, not the token request)"),
]

# (status, code, message as observed in reference §4.3, catalog key, pinned title)
GRAPH_CASES = [
    (
        401,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
        "InvalidAuthenticationToken#expired",
        "The access token has expired or is not yet valid",
    ),
    (
        401,
        "InvalidAuthenticationToken",
        "Lifetime validation failed, the token is expired.",
        "InvalidAuthenticationToken#expired",
        "The access token has expired or is not yet valid",
    ),
    (
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
        "InvalidAuthenticationToken#audience",
        "The access token is for another API (invalid audience)",
    ),
    (
        401,
        "InvalidAuthenticationToken",
        "CompactToken validation failed with reason code: 80049228.",
        "InvalidAuthenticationToken#compact",
        "The access token could not be read (CompactToken)",
    ),
    (
        401,
        "InvalidAuthenticationToken",
        "Access token is empty.",
        "InvalidAuthenticationToken#empty",
        "No access token was sent",
    ),
    (
        401,
        "InvalidAuthenticationToken",
        "Something new about the token.",
        "InvalidAuthenticationToken",
        "Graph rejected the access token",
    ),
    (
        401,
        "NoPermissionsInAccessToken",
        "The token contains no permissions, or permissions can not be understood.",
        "NoPermissionsInAccessToken",
        "The token has no permissions (Mail.Send not granted as an application permission)",
    ),
    (
        403,
        "ErrorAccessDenied",
        "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.",
        "ErrorAccessDenied#policy",
        "The sender is outside the app's application access policy",
    ),
    (
        403,
        "ErrorAccessDenied",
        "Access to OData is disabled.",
        "ErrorAccessDenied#policy",
        "The sender is outside the app's application access policy",
    ),
    (
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
        "ErrorAccessDenied",
        "Access denied: the token lacks Mail.Send for this mailbox",
    ),
    (
        403,
        "ErrorSendAsDenied",
        "The user account which was used to submit this request does not have the right to "
        "send mail on behalf of the specified sending account., Cannot submit message.",
        "ErrorSendAsDenied",
        "The app may not send as the 'from' address",
    ),
    (
        404,
        "ErrorInvalidUser",
        f"The requested user '{SENDER}' is invalid.",
        "ErrorInvalidUser",
        "The sender mailbox does not exist",
    ),
    (
        404,
        "ResourceNotFound",
        "Resource could not be discovered.",
        "ResourceNotFound",
        "The sender has no mailbox (resource not found)",
    ),
    (
        404,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        "MailboxNotEnabledForRESTAPI",
        "The sender has no usable Exchange Online mailbox (no licence, inactive or on-premises)",
    ),
    (
        400,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
        "BadRequest#me",
        "/me cannot be used with an app-only token",
    ),
    (
        400,
        "BadRequest",
        "The property 'subject' does not exist on type 'microsoft.graph.sendMail'.",
        "BadRequest#nesting",
        'The message fields are not inside "message"',
    ),
    (400, "BadRequest", "Something else is wrong.", "BadRequest", "Graph refused the request as malformed"),
    (
        400,
        "BadRequest",
        "The maximum request length supported is 4MB... Maximum request length exceeded.",
        "RequestEntityTooLarge",
        "The request is larger than 4 MB",
    ),
    (
        400,
        "ErrorInvalidRecipients",
        "At least one recipient isn't valid., Recipient \"bad\" isn't resolved.",
        "ErrorInvalidRecipients",
        "A recipient address is not valid",
    ),
    (
        400,
        "RequestBodyRead",
        "Cannot convert the literal '0' to the expected type 'Edm.String'.",
        "RequestBodyRead#type",
        "The JSON body has a value of the wrong type",
    ),
    (
        415,
        "RequestBodyRead",
        "A supported MIME type could not be found that matches the content type of the response.",
        "RequestBodyRead#content-type",
        "The Content-Type header is missing or wrong",
    ),
    (400, "RequestBodyRead", "Unreadable.", "RequestBodyRead", "Graph could not read the request body"),
    (
        400,
        "ErrorInvalidRequest",
        "Cannot read the request body.",
        "ErrorInvalidRequest",
        "The request body could not be read",
    ),
    (
        400,
        "ErrorMimeContentInvalidBase64String",
        "Invalid base64 string for MIME content.",
        "ErrorMimeContentInvalidBase64String",
        "The MIME content is not valid Base64",
    ),
    (
        413,
        "RequestEntityTooLarge",
        "Maximum request length exceeded.",
        "RequestEntityTooLarge",
        "The request is larger than 4 MB",
    ),
    (
        400,
        "ErrorMessageSizeExceeded",
        "The message exceeds the maximum supported size.",
        "ErrorMessageSizeExceeded",
        "The message is larger than the allowed size",
    ),
    (
        429,
        "ApplicationThrottled",
        "Application is over its MailboxConcurrency limit.",
        "ApplicationThrottled",
        "The app is throttled for this mailbox",
    ),
    (429, "TooManyRequests", "Please retry again later.", "TooManyRequests", "Graph is throttling the requests"),
    (
        429,
        "activityLimitReached",
        "Please retry again later.",
        "activityLimitReached",
        "Graph is throttling the requests",
    ),
    (503, "serviceNotAvailable", "Service unavailable.", "serviceNotAvailable", "Graph is temporarily unavailable"),
    (500, "UnknownError", "", "UnknownError", "Graph is temporarily unavailable"),
    (500, "generalException", "General exception.", "generalException", "Graph is temporarily unavailable"),
]

FINDING_TITLES = [
    ("tenant-missing", "The tenant ID is missing"),
    ("tenant-is-url", "The tenant is a URL, not a tenant ID"),
    ("tenant-is-placeholder", "The tenant ID is still a placeholder"),
    ("tenant-not-specific", "The tenant must be your own tenant, not common/organizations/consumers"),
    ("tenant-invalid", "The tenant ID is not a GUID or a domain"),
    ("client-id-missing", "The client ID is missing"),
    ("client-id-invalid", "The client ID is not a GUID"),
    ("client-id-is-placeholder", "The client ID is still a placeholder"),
    ("credential-missing", "No client secret or certificate is configured"),
    ("secret-looks-like-guid", "The client secret ID was used instead of its value"),
    ("secret-is-placeholder", "The client secret is still a placeholder"),
    ("secret-has-whitespace", "The client secret has spaces or line breaks around it"),
    ("certificate-unreadable", "The certificate file cannot be used"),
    ("sender-missing", "The sender mailbox is missing"),
    ("sender-invalid", "The sender is not an e-mail address"),
    ("recipient-invalid", "The test recipient is not a valid e-mail address"),
    ("cloud-unknown", "The cloud name is not known"),
    ("claims-unreadable", "The access token could not be decoded"),
    ("claims-aud-wrong", "The token is for another API (aud is not Microsoft Graph)"),
    ("claims-tid-wrong", "The token is from another tenant"),
    ("claims-appid-wrong", "The token is for another app"),
    ("claims-roles-missing", "The token has no roles: Mail.Send is not granted as an application permission"),
    ("claims-mail-send-missing", "The token has roles but not Mail.Send (delegated permission added instead)"),
    ("claims-not-app-only", "The token is a user (delegated) token, not an app-only token"),
    ("claims-expired", "The access token has expired"),
    ("no-admin-consent", "Admin consent has not been granted for Mail.Send"),
    ("mail-send-tenant-wide", "Mail.Send lets this app send as any mailbox in the tenant"),
    ("send-ambiguous", "The send may or may not have happened"),
    ("throttled-wait-exceeded", "Throttled for longer than o365check will wait"),
    ("service-unreachable", "A Microsoft service could not be reached"),
]


@pytest.mark.parametrize(("code", "title"), AADSTS_TITLES)
def test_every_aadsts_code_has_its_pinned_title(code, title):
    d = diagnose(token_error(code), CTX)
    assert d.title == title
    assert d.code == f"AADSTS{code}"
    assert d.fixes and d.reference.startswith("https://")
    assert ("Trace ID", "trace-1") in d.details and ("Correlation ID", "corr-1") in d.details


@pytest.mark.parametrize(("status", "code", "message", "key", "title"), GRAPH_CASES)
def test_every_graph_error_has_its_pinned_title(status, code, message, key, title):
    d = diagnose(graph_error(status, code, message, retry_after=7 if status == 429 else None), CTX)
    assert d.title == title
    assert GRAPH[key].title == title  # the message picked this very entry
    assert d.code == code
    assert ("Request ID", "req-1") in d.details and ("HTTP status", str(status)) in d.details
    assert d.fixes and d.reference.startswith("https://learn.microsoft.com/")


@pytest.mark.parametrize(("code", "title"), FINDING_TITLES)
def test_every_finding_code_has_its_pinned_title(code, title):
    assert diagnose(code, CTX).title == title
    problem = Problem("FIELD", "value", "is wrong", "fix it", code=code)
    assert diagnose(problem, CTX).title == title


def test_the_pinned_tables_cover_the_whole_catalog():
    assert {c for c, _ in AADSTS_TITLES} == set(AADSTS)
    assert {k for *_, k, _ in GRAPH_CASES} == set(GRAPH)
    assert {c for c, _ in FINDING_TITLES} == set(FINDINGS)


def test_the_reference_cites_the_documented_page():
    assert (
        diagnose(token_error(7000215)).reference
        == "https://learn.microsoft.com/entra/identity-platform/reference-error-codes"
    )
    assert diagnose(token_error(900023)).reference == "https://login.microsoftonline.com/error?code=900023"
    raop = graph_error(403, "ErrorAccessDenied", "Access to OData is disabled: [RAOP] : Blocked")
    assert diagnose(raop).reference == "https://learn.microsoft.com/graph/auth-limit-mailbox-access"


def test_unknown_aadsts_code_keeps_code_message_and_ids():
    err = token_error(4242424, "A brand new failure.", error_uri="https://login.microsoftonline.com/error?code=4242424")
    d = diagnose(err, CTX)
    assert d.code == "AADSTS4242424"
    assert "AADSTS4242424" in d.title
    details = dict(d.details)
    assert details["Message"] == "AADSTS4242424: A brand new failure."
    assert details["Trace ID"] == "trace-1" and details["Correlation ID"] == "corr-1"
    assert details["Timestamp"] == "2024-05-01 10:00:00Z"
    assert any("https://login.microsoftonline.com/error?code=4242424" in f for f in d.fixes)
    assert any("support" in f and "Trace ID" in f for f in d.fixes)


def test_token_error_without_any_code_still_diagnoses():
    d = diagnose(TokenError.from_response({"error": "server_error"}, status=500))
    assert d.code == "server_error" and d.title and d.fixes


def test_unknown_graph_code_keeps_code_message_and_ids():
    d = diagnose(graph_error(409, "ErrorSomethingNew", "A conflict nobody has seen."), CTX)
    assert d.code == "ErrorSomethingNew" and "ErrorSomethingNew" in d.title
    details = dict(d.details)
    assert details["Message"] == "A conflict nobody has seen."
    assert details["Request ID"] == "req-1" and details["Client request ID"] == "creq-1"
    assert details["Date"] == "2024-05-01T10:00:00"
    assert any("request ID" in f for f in d.fixes)


def test_unknown_graph_codes_fall_back_by_status():
    assert (
        diagnose(graph_error(429, "Too Many Requests", "x", retry_after=5)).title == "Graph is throttling the requests"
    )
    assert diagnose(graph_error(502, "Bad Gateway", "x")).title == "Graph is temporarily unavailable"


def test_retry_after_is_filled_into_the_throttling_fix():
    d = diagnose(
        graph_error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", retry_after=7)
    )
    assert "Wait the Retry-After time (7 s)" in d.fixes[0]
    unknown = diagnose(graph_error(429, "TooManyRequests", "Please retry again later."))
    assert "(none given: start with a few seconds)" in unknown.fixes[0]
    assert ("Retry-After", "7 s") in d.details


@pytest.mark.parametrize(
    "subject",
    [
        token_error(65001),
        "claims-roles-missing",
        "no-admin-consent",
        graph_error(
            401,
            "NoPermissionsInAccessToken",
            "The token contains no permissions, or permissions can not be understood.",
        ),
        Problem("token", "", "has no roles", "grant consent", code="claims-roles-missing"),
    ],
)
def test_consent_diagnoses_contain_the_filled_admin_consent_url(subject):
    d = diagnose(subject, CTX)
    assert any(CONSENT_URL in fix for fix in d.fixes)
    assert any("Get a NEW token" in fix for fix in d.fixes)


def test_consent_url_follows_the_cloud():
    ctx = DiagnosisContext(tenant=TENANT, client_id=CLIENT_ID, cloud="usgov")
    d = diagnose("claims-roles-missing", ctx)
    assert any(f"https://login.microsoftonline.us/{TENANT}/adminconsent?client_id={CLIENT_ID}" in f for f in d.fixes)
    assert any("portal.azure.us" in f for f in d.fixes)


def test_without_context_the_fixes_show_placeholders_not_blanks():
    d = diagnose("claims-roles-missing")
    assert any("/<tenant-id>/adminconsent?client_id=<application-client-id>" in f for f in d.fixes)
    assert not any("//adminconsent" in f for f in d.fixes)


def test_tenant_wide_mail_send_advice_is_short_and_points_to_the_command_with_the_users_values():
    """The advice no longer carries ten lines of PowerShell: `scope-mailboxes` prints them (issue 12 item 4)."""
    text = format_diagnosis(diagnose("mail-send-tenant-wide", CTX))
    assert f"o365check scope-mailboxes --client-id {CLIENT_ID} --sender {SENDER}" in text
    assert "New-ApplicationAccessPolicy" not in text and "Connect-ExchangeOnline" not in text
    assert "additive" in text and "auth-limit-mailbox-access" in text
    assert len(text.splitlines()) <= 6


def test_message_variants_do_not_leak_into_each_other():
    generic = diagnose(graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."))
    policy = diagnose(graph_error(403, "ErrorAccessDenied", "Access to OData is disabled: [RAOP] : Blocked"))
    assert generic.title != policy.title
    assert "Test-ApplicationAccessPolicy" in format_diagnosis(policy)


def test_discovery_error_uses_its_token_error_else_a_discovery_diagnosis():
    with_token = DiscoveryError(TENANT, "login.microsoftonline.com", 400, token_error(90002))
    assert diagnose(with_token, CTX).title == "The tenant was not found"
    bare = diagnose(DiscoveryError("nope.example", "login.microsoftonline.us", 404))
    assert bare.title == "Tenant discovery failed"
    assert "nope.example" in bare.explanation and "login.microsoftonline.us" in bare.explanation
    assert ("HTTP status", "404") in bare.details


def test_service_unreachable_and_ambiguous_send_name_host_and_sender():
    d = diagnose(ServiceUnreachableError("graph.microsoft.com", "connection refused"), CTX)
    assert d.title == "A Microsoft service could not be reached"
    assert "graph.microsoft.com" in d.explanation and "connection refused" in d.explanation
    a = diagnose(AmbiguousSendError("boss@contoso.com", "the connection was reset"))
    assert a.title == "The send may or may not have happened"
    assert "Sent Items of boss@contoso.com" in a.fixes[0] and "connection was reset" in a.explanation


def test_settings_error_with_one_problem_is_that_problem():
    err = SettingsError([Problem("AZURE_TENANT_ID", "", "is missing", "set it", code="tenant-missing")])
    assert diagnose(err, CTX).title == "The tenant ID is missing"


def test_settings_error_with_several_problems_lists_each():
    err = SettingsError(
        [
            Problem("AZURE_TENANT_ID", "", "is missing", "set it", code="tenant-missing"),
            Problem("AZURE_CLIENT_ID", "abc", "is not a GUID", "copy it", code="client-id-invalid"),
            Problem("O365CHECK_SENDER", "x", "looks odd", "check it", severity="warning", code="sender-invalid"),
        ]
    )
    d = diagnose(err, CTX)
    assert d.title == "2 settings need fixing"
    assert d.fixes[0].startswith("The tenant ID is missing: ") and d.fixes[1].startswith(
        "The client ID is not a GUID: "
    )


def test_unknown_problem_code_uses_the_problems_own_words():
    d = diagnose(Problem("env.txt", "", "cannot be read {oops}", "Check the path.", code="env-file-unreadable"))
    assert d.title == "env.txt cannot be read {oops}"
    assert d.fixes == ("Check the path.",)


def test_problem_values_of_secret_fields_are_masked():
    d = diagnose(
        Problem("AZURE_CLIENT_SECRET", "real-secret-value", "looks like a GUID", "x", code="secret-looks-like-guid")
    )
    assert "real-secret-value" not in repr(d) and ("Value", "********") in d.details


def test_unknown_finding_string_and_foreign_exceptions_still_diagnose():
    d = diagnose("finding-nobody-knows")
    assert d.code == "finding-nobody-knows" and d.fixes
    boom = diagnose(RuntimeError("boom {not a template}"))
    assert boom.code == "RuntimeError" and ("Message", "boom {not a template}") in boom.details
    ours = diagnose(CollectionLoadError("c.json", "not JSON", "line 3"))
    assert ours.title == "A collection, environment, globals or data file could not be read"
    assert "c.json" in ours.explanation
    assert isinstance(diagnose(None), Diagnosis) and isinstance(diagnose(42), Diagnosis)


def test_no_secret_or_token_can_appear_in_a_diagnosis():
    canary = "CANARY-s3cr3t~value.1234567890"
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJlLXBhcnQ"
    err = TokenError.from_response(
        {
            "error": "invalid_client",
            "error_description": f"AADSTS7000215: Invalid client secret provided. client_secret={canary}&x=1 {jwt}"
            "\r\nTrace ID: t\r\nCorrelation ID: c",
            "error_codes": [7000215],
        },
        status=401,
    )
    graph = graph_error(401, "InvalidAuthenticationToken", f"Bearer {jwt} is broken")
    for subject in (err, graph, RuntimeError(f"client_secret={canary}"), ServiceUnreachableError("h", f"Bearer {jwt}")):
        d = diagnose(subject, CTX)
        rendered = format_diagnosis(d) + repr(d) + repr(d.to_dict())
        assert canary not in rendered and jwt not in rendered


def test_format_diagnosis_shape():
    d = Diagnosis(
        "Title",
        "Why it happened.",
        ("Do this.", "Then that\nand this too."),
        "https://example.org/doc",
        code="X1",
        details=(("Trace ID", "t-1"), ("Message", "m")),
    )
    assert format_diagnosis(d).splitlines() == [
        "Title",
        "Why it happened.",
        "1. Do this.",
        "2. Then that",
        "   and this too.",
        "Reference: https://example.org/doc",
        "Code: X1",
        "Trace ID: t-1",
        "Message: m",
    ]


def test_to_dict_is_json_ready():
    d = diagnose(token_error(7000215), CTX).to_dict()
    assert set(d) == {"title", "explanation", "fixes", "reference", "code", "details"}
    assert isinstance(d["fixes"], list) and d["details"]["Trace ID"] == "trace-1"


def test_fixes_are_filled_with_the_users_values():
    d = diagnose(token_error(7000215), CTX)
    assert CLIENT_ID in d.fixes[0] and "Certificates & secrets > New client secret" in d.fixes[0]
    scope = diagnose(token_error(1002012), DiagnosisContext(cloud="china"))
    assert scope.fixes == ("Request scope https://microsoftgraph.chinacloudapi.cn/.default (nothing else).",)
    bad_cloud = diagnose(token_error(1002012), DiagnosisContext(cloud="mars"))
    assert "https://graph.microsoft.com/.default" in bad_cloud.fixes[0]


def test_no_template_braces_survive_in_any_catalog_text():
    subjects = [token_error(c) for c, _ in AADSTS_TITLES] + [graph_error(s, c, m) for s, c, m, *_ in GRAPH_CASES]
    subjects += [c for c, _ in FINDING_TITLES]
    for subject in subjects:
        text = format_diagnosis(diagnose(subject, CTX))
        assert "<tenant-id>" not in text and "<application-client-id>" not in text, text
        for name in ("{tenant}", "{client_id}", "{sender}", "{consent_url}", "{graph_scope}", "{app}"):
            assert name not in text, text
