"""Microsoft Graph ``sendMail`` as Exchange Online answers it for app-only tokens (reference §4).

Checks run in the order the service applies them: request size, then authentication (bearer
token, ``/me``, roles), then the mailbox rules (user, licence, Mail.Send, access policy,
throttling), then the body (content type, parameters, recipients, ``from``). Success is
``202 Accepted`` with an empty body and the message in the outbox.

The action's parameters are accepted under both names the service takes (reference §4.1): the
metadata's ``Message``/``SaveToSentItems`` that the generated SDKs send, and the docs'
``message``/``saveToSentItems``; ``@odata.*`` annotations are allowed anywhere.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from .hosts import SandboxCloud
from .model import MAIL_SEND, AppRegistration, Directory, Mailbox
from .tokens import GraphTokenRejected, read_sandbox_token

__all__ = ["GraphError", "answer_graph_request", "graph_error_response", "MAX_REQUEST_BYTES"]

MAX_REQUEST_BYTES = 4 * 1024 * 1024  # "The maximum request length supported is 4MB." (§4.3)
SEND_MAIL = re.compile(r"^/(v1\.0|beta)/(?:users/([^/]+)|(me))/(?:microsoft\.graph\.)?sendmail/?$", re.I)
ADDRESS = re.compile(r"^[^@\s;,<>\"]+@[^@\s;,<>\"]+\.[^@\s;,<>\"]+$")
AGS_DIAGNOSTIC = json.dumps(
    {
        "ServerInfo": {
            "DataCenter": "West Europe",
            "Slice": "E",
            "Ring": "5",
            "ScaleUnit": "000",
            "RoleInstance": "SANDBOX",
        }
    },
    separators=(",", ":"),
)
INVALID_TOKEN = "InvalidAuthenticationToken"
# The action's parameters under the metadata's names (SDKs) and the docs' names (reference §4.1).
PARAMETER_NAMES = {
    "Message": "message",
    "message": "message",
    "SaveToSentItems": "saveToSentItems",
    "saveToSentItems": "saveToSentItems",
}


class GraphError(Exception):
    """A Graph error answer: status, code, message (and Retry-After for 429)."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def _graph_headers(request: Request, request_id: str, now: float) -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Strict-Transport-Security": "max-age=31536000",
        "request-id": request_id,
        "client-request-id": request.headers.get("client-request-id") or request_id,
        "x-ms-ags-diagnostic": AGS_DIAGNOSTIC,
        "Date": datetime.fromtimestamp(now, tz=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
    }


def graph_error_response(
    request: Request, error: GraphError, now: float, login_host: str = "login.microsoftonline.com"
) -> Response:
    """The error JSON and headers of reference §4.2."""
    request_id = str(uuid.uuid4())
    headers = _graph_headers(request, request_id, now)
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "innerError": {
                "date": datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": headers["client-request-id"],
            },
        }
    }
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        headers["WWW-Authenticate"] = (
            f'Bearer realm="", authorization_uri="https://{login_host}/common/oauth2/authorize", '
            'client_id="00000003-0000-0000-c000-000000000000"'
        )
    return Response(
        json.dumps(body, separators=(",", ":")), status=error.status, headers=headers, content_type="application/json"
    )


def answer_graph_request(
    request: Request,
    directory: Directory,
    cloud: SandboxCloud,
    now: float,
    outbox: list[dict[str, Any]],
    outbox_lock: threading.Lock,
) -> Response:
    """Handle one Graph request; only ``sendMail`` exists in the sandbox."""
    login_host = cloud.login_host
    try:
        accepted = _send_mail(request, directory, cloud, now)
    except GraphError as error:
        return graph_error_response(request, error, now, login_host)
    with outbox_lock:
        outbox.append(accepted)
    response = Response(b"", status=202, headers=_graph_headers(request, str(uuid.uuid4()), now))
    del response.headers["Content-Type"]  # 202 Accepted has an empty body and no type (§4.1)
    return response


def is_send_mail_path(path: str) -> bool:
    return SEND_MAIL.match(path) is not None


def _send_mail(request: Request, directory: Directory, cloud: SandboxCloud, now: float) -> dict[str, Any]:
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        raise GraphError(413, "RequestEntityTooLarge", "The maximum request length supported is 4MB.")
    # Graph authenticates before it routes: a bad or missing token is a 401 on any path.
    claims = _read_bearer_token(request, cloud, now)
    match = SEND_MAIL.match(request.path)
    if match is None:  # the sandbox emulates sendMail only
        segment = [p for p in request.path.split("/") if p][1:2] or [""]
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment[0]}'.")
    tenant = directory.tenant_by_id(str(claims.get("tid", "")))
    if tenant is None:
        raise GraphError(401, INVALID_TOKEN, "Access token validation failure.")
    if match.group(3):
        raise GraphError(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
    roles = claims.get("roles") or []
    if not roles:
        raise GraphError(
            401,
            "NoPermissionsInAccessToken",
            "The token contains no permissions, or permissions can not be understood.",
        )
    if request.method != "POST":
        # [unverified] wording; Graph rejects other verbs on an action.
        raise GraphError(405, "BadRequest", f"The HTTP method '{request.method}' is not allowed on sendMail.")
    # The mailbox rules come before the body: a scenario's mailbox answer does not depend on how
    # a client spells the body (reference §4.1, corrected).
    mailbox = tenant.find_mailbox(match.group(2))
    if mailbox is None:
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{match.group(2)}' is invalid.")
    _check_mailbox(mailbox, roles, claims, tenant.find_app(str(claims.get("appid", ""))))
    if request.mimetype == "text/plain":
        message, save = _read_mime_payload(request), True
    elif request.mimetype == "application/json":
        message, save = _read_payload(request)
    else:
        raise GraphError(
            415,
            "RequestBodyRead",
            "A supported MIME type could not be found that matches the content type of the "
            "response. None of the supported type(s) 'application/json' matches the content "
            f"type '{request.content_type or ''}'.",
        )
    recipients = {kind: _read_recipients(message, kind) for kind in ("toRecipients", "ccRecipients", "bccRecipients")}
    if not any(recipients.values()):
        raise GraphError(
            400,
            "ErrorInvalidRecipients",
            "At least one recipient is not valid., A message can't be sent because it contains no recipients.",
        )
    _check_from(message, mailbox)
    body = message.get("body") or {}
    return {
        "sender": mailbox.address,
        "to": recipients["toRecipients"],
        "cc": recipients["ccRecipients"],
        "bcc": recipients["bccRecipients"],
        "subject": message.get("subject", ""),
        "body": body.get("content", "") if isinstance(body, dict) else "",
        "content_type": _body_type(body),
        "save_to_sent_items": save,
        "received_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "message": message,
    }


def _read_bearer_token(request: Request, cloud: SandboxCloud, now: float) -> dict[str, Any]:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not token.strip():
        raise GraphError(401, INVALID_TOKEN, "Access token is empty.")
    try:
        return read_sandbox_token(token.strip(), cloud.graph_resource, now=now)
    except GraphTokenRejected as rejected:
        raise GraphError(401, INVALID_TOKEN, str(rejected)) from None


def _read_mime_payload(request: Request) -> dict[str, Any]:
    """The other documented form: a base64 MIME message as ``text/plain`` (§4.1, G-SEND)."""
    import base64
    import binascii
    from email import message_from_bytes, policy
    from email.utils import getaddresses

    try:
        mime = message_from_bytes(base64.b64decode(request.get_data(cache=True), validate=True), policy=policy.default)
    except (binascii.Error, ValueError):
        raise GraphError(
            400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."
        ) from None

    def as_recipients(header: str) -> list[dict[str, Any]]:
        return [{"emailAddress": {"address": a}} for _, a in getaddresses(mime.get_all(header, []))]

    body = mime.get_body(preferencelist=("plain", "html"))
    return {
        "subject": str(mime.get("Subject", "")),
        "body": {
            "contentType": "HTML" if body is not None and body.get_content_subtype() == "html" else "Text",
            "content": body.get_content() if body is not None else "",
        },
        "toRecipients": as_recipients("To"),
        "ccRecipients": as_recipients("Cc"),
        "bccRecipients": as_recipients("Bcc"),
    }


def _read_payload(request: Request) -> tuple[dict[str, Any], bool]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise GraphError(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set "
            "and payload is of valid JSON format.",
        ) from None
    if not isinstance(payload, dict):
        raise GraphError(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type "
            "header is set and payload is of valid JSON format.",
        )
    parameters: dict[str, Any] = {}
    for key, value in payload.items():
        if _is_annotation(key):
            continue
        name = PARAMETER_NAMES.get(key)
        if name is None:
            # Message fields sent without the `message` wrapper (reference §4.3).
            raise GraphError(
                400,
                "RequestBodyRead",
                f"The property '{key}' does not exist on type 'microsoft.graph.sendMail'. "
                "Make sure to only use property names that are defined by the type or mark the "
                "type as open type.",
            )
        parameters[name] = value
    message = parameters.get("message")
    if not isinstance(message, dict):
        raise GraphError(400, "ErrorInvalidParameter", "Missing required parameter 'Message'.")  # [unverified]
    save = parameters.get("saveToSentItems", True)
    if isinstance(save, str) and save.lower() in ("true", "false"):
        save = save.lower() == "true"  # the doc example itself sends the string "false" (§4.1)
    if not isinstance(save, bool):
        raise GraphError(
            400, "RequestBodyRead", f"Cannot convert the literal '{save}' to the expected type 'Edm.Boolean'."
        )
    for name in ("subject",):
        if name in message and not isinstance(message[name], str):
            raise GraphError(
                400,
                "RequestBodyRead",
                f"Cannot convert the literal '{message[name]}' to the expected type 'Edm.String'.",
            )
    return message, save


def _is_annotation(key: str) -> bool:
    """An OData instance or property annotation (``@odata.type``, ``Message@odata.type``)."""
    return "@" in key


def _body_type(body: Any) -> str:
    """``itemBody.contentType`` as the docs spell it; the SDKs send the enum's member names ``text``/``html``."""
    value = body.get("contentType", "Text") if isinstance(body, dict) else "Text"
    return "HTML" if isinstance(value, str) and value.lower() == "html" else "Text"


def _check_mailbox(mailbox: Mailbox, roles: list[str], claims: dict[str, Any], app: AppRegistration | None) -> None:
    if not mailbox.can_use_rest:
        raise GraphError(
            404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
        )
    if MAIL_SEND not in roles:
        raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    if app is not None and app.restricted_by_access_policy and not mailbox.in_access_policy_scope:
        raise GraphError(
            403,
            "ErrorAccessDenied",
            "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.",
        )
    if mailbox.throttled:
        raise GraphError(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
            retry_after=mailbox.throttle_retry_after,
        )


def _read_recipients(message: dict[str, Any], kind: str) -> list[str]:
    entries = message.get(kind) or []
    if not isinstance(entries, list):
        raise GraphError(
            400,
            "RequestBodyRead",
            f"Cannot convert the literal '{entries}' to the expected type 'Collection(microsoft.graph.recipient)'.",
        )
    addresses = []
    for entry in entries:
        email = entry.get("emailAddress") if isinstance(entry, dict) else None
        address = email.get("address") if isinstance(email, dict) else None
        if not isinstance(address, str) or not ADDRESS.match(address.strip()):
            shown = address if isinstance(address, str) else ""
            raise GraphError(
                400,
                "ErrorInvalidRecipients",
                f"At least one recipient isn't valid., Recipient \"{shown}\" isn't resolved. "
                "All recipients must be resolved before a message can be submitted.",
            )
        addresses.append(address.strip())
    return addresses


def _check_from(message: dict[str, Any], mailbox: Mailbox) -> None:
    """A ``from`` naming another mailbox needs Send As, which the sandbox never grants."""
    sender = message.get("from")
    address = (sender or {}).get("emailAddress", {}).get("address") if isinstance(sender, dict) else None
    if isinstance(address, str) and not mailbox.is_known_as(address):
        raise GraphError(
            403,
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not have the right "
            "to send mail on behalf of the specified sending account., Cannot submit message.",
        )
