"""What Exchange Online answers an SMTP AUTH client, decided from the tenant model (pure, no I/O).

Replies are reference §8.2/§8.3's. Exchange does not document the order of its checks; the order
here (token, organisation switch, service principal, mailbox, mailbox switch, mailbox permission)
is ours [unverified], chosen so each scenario's one mistake is what the client sees.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from .model import SMTP_SEND_AS_APP, AppRegistration, Directory, Mailbox, Tenant
from .smtp_hosts import EXCHANGE_CLOUDS
from .tokens import CLOCK_SKEW, signing_key

__all__ = [
    "AuthOutcome",
    "SERVER_NAME",
    "REPLIES",
    "XOAUTH2_FAILURE_CHALLENGE",
    "check_xoauth2",
    "check_submission",
]

# What the 535 5.7.3 reply carries in brackets: the answering front-end's name (§8.3 "[<server>]").
SERVER_NAME = "SANDBOX01.o365check.sandbox"

REPLIES: dict[str, tuple[int, str]] = {
    # §8.3 [thread]
    "auth-ok": (235, "2.7.0 Authentication successful"),
    "auth-failed": (535, f"5.7.3 Authentication unsuccessful [{SERVER_NAME}]"),
    "auth-disabled-tenant": (
        535,
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
        "Visit https://aka.ms/smtp_auth_disabled for more information.",
    ),
    "auth-disabled-mailbox": (
        535,
        "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated "
        "successfully. Contact your administrator.",
    ),
    # §8.2 [thread]: AUTH before STARTTLS.
    "auth-before-starttls": (504, "5.7.4 Unrecognized authentication type"),
    "not-authenticated": (530, "5.7.57 Client not authenticated to send mail"),
    # §8.2 [thread]: "exact wording varies"; the reference's short form.
    "send-as-denied": (554, "5.2.252 SendAsDenied; {mailbox} not allowed to send as {sender}"),
    # §8.3 gives this reply elided ("554 5.7.0 ... message submission rate for this client has exceeded
    # the configured limit"); the words before the elision are ours [unverified].
    "rate-limited": (554, "5.7.0 Message submission rate for this client has exceeded the configured limit"),
}

# §8.2 [thread]: a failed XOAUTH2 may first come back as a 334 with this base64 JSON; the client
# answers with an empty line and then gets the 535.
XOAUTH2_FAILURE_CHALLENGE = json.dumps(
    {"status": "401", "schemes": "bearer", "scope": "https://outlook.office.com/.default"}, separators=(",", ":")
)


@dataclass(frozen=True)
class AuthOutcome:
    """The reply to AUTH XOAUTH2 and, on success, who authenticated."""

    reply: str  # a key of REPLIES
    why: str  # for the sandbox's own log (never contains the token)
    mailbox: Mailbox | None = None
    app: AppRegistration | None = None
    tenant: Tenant | None = None

    @property
    def ok(self) -> bool:
        return self.reply == "auth-ok"

    @property
    def challenge_first(self) -> bool:
        """5.7.3 comes after the 334 JSON challenge (§8.2)."""
        return self.reply == "auth-failed"


def parse_xoauth2(blob: str) -> tuple[str, str] | None:
    """``(user, token)`` from base64(``user=<m>\\x01auth=Bearer <t>\\x01\\x01``), or None if malformed."""
    try:
        text = base64.b64decode(blob.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
    user, auth = fields.get("user", ""), fields.get("auth", "")
    scheme, _, token = auth.partition(" ")
    if not user or scheme.lower() != "bearer" or not token.strip():
        return None
    return user.strip(), token.strip()


def _read_token(token: str) -> dict[str, Any] | None:
    """The claims of a token this sandbox signed, or None (not a JWT, another key, bad signature)."""
    import jwt

    key = signing_key()
    try:
        if jwt.get_unverified_header(token).get("kid") != key.kid:
            return None
        return jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        return None


def check_xoauth2(blob: str, directory: Directory, now: float) -> AuthOutcome:
    """Exchange Online's answer to ``AUTH XOAUTH2 <blob>`` for the tenant model ``directory``."""
    parsed = parse_xoauth2(blob)
    if parsed is None:
        return AuthOutcome("auth-failed", "the XOAUTH2 string is not user=...^Aauth=Bearer ...^A^A")
    user, token = parsed
    claims = _read_token(token)
    if claims is None:
        return AuthOutcome("auth-failed", "the token was not issued by this sandbox's identity platform")
    tenant = directory.tenant_by_id(str(claims.get("tid", "")))
    if tenant is None:
        return AuthOutcome("auth-failed", "the token's tenant is unknown")
    exchange = EXCHANGE_CLOUDS.get(tenant.cloud)
    if exchange is None or claims.get("aud") != exchange.resource:
        return AuthOutcome("auth-failed", f"audience {claims.get('aud')!r} is not Exchange Online")
    if not (claims.get("nbf", 0) - CLOCK_SKEW <= now < claims.get("exp", 0) + CLOCK_SKEW):
        return AuthOutcome("auth-failed", "the token has expired or is not yet valid")
    if SMTP_SEND_AS_APP not in (claims.get("roles") or []):
        return AuthOutcome("auth-failed", f"the token's roles lack {SMTP_SEND_AS_APP}")
    if tenant.smtp_auth_disabled:
        return AuthOutcome("auth-disabled-tenant", "SMTP AUTH is disabled for the organisation")
    app = tenant.find_app(str(claims.get("appid", "")))
    oid = str(claims.get("oid", ""))
    principal = tenant.exchange_service_principal(str(claims.get("appid", "")), oid)
    if app is None or principal is None:
        return AuthOutcome("auth-failed", "no Exchange service principal with the token's appid and oid")
    mailbox = tenant.find_mailbox(user)
    if mailbox is None:
        return AuthOutcome("auth-failed", "the XOAUTH2 user is not a mailbox of the tenant")
    if mailbox.smtp_auth_disabled:
        return AuthOutcome("auth-disabled-mailbox", "SMTP AUTH is disabled on the mailbox")
    if not any(mailbox.grants_full_access_to(i) for i in (principal.object_id, principal.app_id)):
        return AuthOutcome("auth-failed", "the service principal has no FullAccess on the mailbox")
    return AuthOutcome("auth-ok", "authenticated", mailbox, app, tenant)


def check_submission(
    authenticated: Mailbox, tenant: Tenant, mail_from: str, now: float
) -> tuple[str, dict[str, str]] | None:
    """The reply key (and its values) refusing a message after DATA, or None to accept it."""
    sender = tenant.find_mailbox(mail_from)
    if not authenticated.is_known_as(mail_from) and (
        sender is None or not sender.grants_send_as_to(authenticated.address)
    ):
        return "send-as-denied", {"mailbox": authenticated.address, "sender": mail_from}
    recent = [t for t in authenticated.smtp_submissions if now - t < 60]
    authenticated.smtp_submissions[:] = recent
    if authenticated.smtp_background_rate + len(recent) >= authenticated.smtp_rate_limit:
        return "rate-limited", {}
    authenticated.smtp_submissions.append(now)
    return None
