"""``o365check token decode``: what a pasted access token says, claim by claim (like jwt.ms, offline).

The token is read, never verified (Graph tokens cannot be validated by clients, reference §3) and
never printed: not the token, not its signature. Each claim gets its meaning (ENTRA-CLAIMS:
learn.microsoft.com/entra/identity-platform/access-token-claims-reference) and, for aud, tid,
appid, roles, idtyp and exp, a verdict against the settings; then what the token can and cannot do
for sendMail.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .claims import ClaimCheck, check_claims, read_unverified_claims
from .errors import UsageError
from .settings import Settings

__all__ = ["CLAIM_MEANINGS", "DecodedToken", "decode_token", "extract_token", "sendmail_verdict", "verdicts"]

# What each claim means (ENTRA-CLAIMS; reference §3 for the app-only Graph token's shape).
CLAIM_MEANINGS: dict[str, str] = {
    "aud": "audience: the API the token is for (Graph: https://graph.microsoft.com or Graph's app ID)",
    "iss": "issuer: the identity platform and tenant that issued it (v1.0: sts.windows.net/<tid>/)",
    "iat": "issued at",
    "nbf": "not valid before",
    "exp": "expires at (app tokens live 60-90 minutes)",
    "aio": "internal data of the identity platform (ignore)",
    "app_displayname": "display name of the app that asked for the token",
    "appid": "application (client) ID of the app that asked for the token (v1.0 tokens)",
    "azp": "application (client) ID of the app that asked for the token (v2.0 tokens)",
    "appidacr": "how the app proved itself: 0 public client, 1 client secret, 2 certificate",
    "azpacr": "how the app proved itself: 0 public client, 1 client secret, 2 certificate",
    "idp": "identity provider that authenticated the subject",
    "idtyp": "token type: app (app-only, client credentials) or user (a user signed in)",
    "oid": "object ID of the subject: here the app's service principal (Enterprise application)",
    "sub": "subject: the service principal for app-only tokens (same as oid)",
    "rh": "internal data of the identity platform (ignore)",
    "roles": "application permissions granted with admin consent (Mail.Send is needed for sendMail)",
    "scp": "delegated permissions of a signed-in user (never in app-only tokens)",
    "tid": "tenant (directory) ID the token belongs to",
    "tenant_region_scope": "region of the tenant",
    "uti": "token identifier (internal; support may ask for it)",
    "ver": "token format version (Graph app tokens are 1.0)",
    "wids": "directory role template IDs of the subject",
    "xms_tcdt": "tenant creation time",
    "xms_tdbr": "tenant data boundary region",
    "xms_idrel": "internal data of the identity platform (ignore)",
    "upn": "user principal name of the signed-in user (user tokens only)",
    "unique_name": "name of the signed-in user (user tokens only)",
    "name": "display name of the signed-in user (user tokens only)",
    "amr": "how the user authenticated (user tokens only)",
    "acr": "authentication context class (user tokens only)",
    "family_name": "user's last name (user tokens only)",
    "given_name": "user's first name (user tokens only)",
    "ipaddr": "IP address the user signed in from (user tokens only)",
    "puid": "internal user ID (user tokens only)",
    "signin_state": "sign-in state of the user (user tokens only)",
}
HEADER_MEANINGS: dict[str, str] = {
    "typ": "token type",
    "alg": "signing algorithm",
    "kid": "ID of the signing key",
    "x5t": "thumbprint of the signing certificate",
    "nonce": "Graph's signature nonce (why Graph tokens cannot be verified with standard JWT libraries)",
}
_TIMES = ("iat", "nbf", "exp", "xms_tcdt")
_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def extract_token(text: str) -> str:
    """The JWT inside what people paste: the bare token, ``Bearer ...``, an ``Authorization:`` header
    line, a quoted string, or a whole token response (``{"access_token": ...}``)."""
    text = text.strip().strip("\ufeff")
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict) and isinstance(document.get("access_token"), str):
            text = document["access_token"]
    text = re.sub(r"(?i)^\s*authorization\s*:\s*", "", text)
    text = re.sub(r"(?i)^\s*bearer\s+", "", text).strip().strip("'\"").strip()
    found = _JWT_SHAPE.fullmatch(text) or re.search(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", text)
    if not found:
        raise UsageError(
            "this is not an access token: a token is three Base64url parts separated by dots (eyJ...). "
            "Paste the access_token value of the token response (Postman: the Token field; not the id_token, "
            "not the client secret)."
        )
    return found.group(0)


@dataclass(frozen=True)
class DecodedToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    signature_length: int  # we say whether there is one, never what it is


def decode_token(token: str) -> DecodedToken:
    """Header and claims of a JWT, NOT verified. Raises UsageError saying what is wrong."""
    try:
        claims = read_unverified_claims(token)
    except ValueError as exc:
        raise UsageError(f"the token cannot be decoded: {exc}") from None
    head, _, rest = token.partition(".")
    try:
        header = read_unverified_claims(f"x.{head}.x")
    except ValueError:
        header = {}
    return DecodedToken(header, claims, len(rest.partition(".")[2]))


def describe_value(name: str, value: Any, now: float) -> str:
    """A claim's value for people: times as UTC dates with how far away they are, lists joined."""
    if name in _TIMES and isinstance(value, (int, float)):
        when = datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        delta = int(value - now)
        ago = f"in {_span(delta)}" if delta >= 0 else f"{_span(-delta)} ago"
        return f"{when} ({ago})" if name != "xms_tcdt" else when
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(empty)"
    return str(value)


def _span(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h" if seconds < 172800 else f"{seconds // 86400} days"


def verdicts(claims: dict[str, Any], settings: Settings, *, now: float | None = None) -> list[ClaimCheck]:
    """aud, tid, appid, roles, idtyp, exp against the settings; tid/appid only when they were given."""
    checks = check_claims(claims, settings, now=now)
    given = {"tid": settings.tenant_id, "appid": settings.client_id}
    shown: list[ClaimCheck] = []
    for check in checks:
        if check.claim in given and not given[check.claim]:
            option = "--tenant-id" if check.claim == "tid" else "--client-id"
            shown.append(
                ClaimCheck(
                    check.claim,
                    True,
                    f"not compared: give {option} (or --env-file) to compare",
                    check.actual,
                    "",
                    "info",
                )
            )
        else:
            shown.append(check)
    return shown


def sendmail_verdict(
    claims: dict[str, Any], *, now: float | None = None, cloud_audience: str = ""
) -> tuple[bool, list[str]]:
    """(can it call sendMail?, the sentences saying what it can and cannot do)."""
    now = time.time() if now is None else now
    roles = [str(r) for r in claims.get("roles") or []]
    user_token = "scp" in claims or claims.get("idtyp") == "user"
    aud = str(claims.get("aud", ""))
    expired = isinstance(claims.get("exp"), (int, float)) and claims["exp"] <= now
    graph = (
        aud.rstrip("/") in {a for a in (cloud_audience, "https://graph.microsoft.com") if a}
        or aud.startswith("00000003-0000-0000-c000-000000000000")
        or "graph" in aud
    )
    lines: list[str] = []
    can = True
    if not graph:
        can = False
        lines.append(
            f"Cannot call Graph: its audience is {aud or '(none)'}, so Graph answers 401 InvalidAuthenticationToken (invalid audience)."
        )
    if expired:
        can = False
        lines.append(
            "Cannot be used any more: it has expired; Graph answers 401 InvalidAuthenticationToken. Get a new one."
        )
    if user_token:
        scopes = str(claims.get("scp", ""))
        lines.append(
            "It is a user (delegated) token: it can send only as the signed-in user, through /me/sendMail, and only "
            f"if its scp lists Mail.Send (scp: {scopes or '(none)'}). It is not what the client-credentials app gets."
        )
        can = can and "Mail.Send" in scopes.split()
    elif "Mail.Send" in roles:
        lines.append(
            "It carries the application permission Mail.Send: it can call /users/{mailbox}/sendMail for any mailbox "
            "of its tenant, unless an application access policy or RBAC for Applications scope limits the app."
        )
    else:
        can = False
        # Reference §4.3: no roles at all -> 401 NoPermissionsInAccessToken; roles without Mail.Send -> 403.
        answer = "403 ErrorAccessDenied" if roles else "401 NoPermissionsInAccessToken"
        lines.append(
            "It cannot send mail: no Mail.Send in roles"
            + (f" (it has {', '.join(roles)})" if roles else " (no roles at all: admin consent was not granted)")
            + f". Graph answers {answer}. Grant Mail.Send as an Application permission with admin consent, "
            "then get a new token."
        )
    lines.append(
        "What a token cannot tell: whether the mailbox exists, is licensed for Exchange Online, or is inside an "
        "access policy; only a send (o365check send or doctor) shows that."
    )
    return can, lines
