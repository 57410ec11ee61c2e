"""Claims of an app-only Graph token, read WITHOUT verifying the signature.

Graph tokens cannot be validated by clients (reference §3, ENTRA-AT): never fail a token for its
signature. The checks follow reference §3: aud, tid, appid, roles (Mail.Send), idtyp, expiry.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from .clouds import cloud_named
from .settings import Settings

__all__ = ["ClaimCheck", "GRAPH_APP_ID", "check_claims", "read_unverified_claims"]

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Graph's appId can appear as aud (reference §3)
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def read_unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded but NOT verified. Raises ValueError if it is not a JWT.

    A replayed cassette's placeholder ``o365check-redacted.<payload>`` (recording.py) is read too.
    """
    parts = token.split(".")
    if len(parts) == 2 and parts[0] == "o365check-redacted":
        parts = ["", parts[1], ""]
    if len(parts) != 3:
        raise ValueError("the access token is not a JWT (it does not have three dot-separated parts)")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("the access token's payload is not Base64url-encoded JSON") from exc
    if not isinstance(claims, dict):
        raise ValueError("the access token's payload is not a JSON object")
    return claims


@dataclass(frozen=True)
class ClaimCheck:
    """One claim compared with what the settings expect."""

    claim: str
    passed: bool
    expected: str
    actual: str
    code: str = ""  # the finding code when it failed (diagnosis.py explains it)
    severity: str = "error"  # "error" or "warning"


def check_claims(claims: dict[str, Any], settings: Settings, *, now: float | None = None) -> list[ClaimCheck]:
    """Compare the token's claims with the app, tenant and cloud the user configured."""
    now = time.time() if now is None else now
    cloud = cloud_named(settings.cloud)
    checks: list[ClaimCheck] = []

    aud = str(claims.get("aud", ""))
    audiences = {cloud.graph_audience, cloud.graph_audience + "/", GRAPH_APP_ID}
    checks.append(
        ClaimCheck("aud", aud in audiences, cloud.graph_audience, aud, "" if aud in audiences else "claims-aud-wrong")
    )

    tid = str(claims.get("tid", ""))
    if _GUID.match(settings.tenant_id):
        ok = tid.lower() == settings.tenant_id.lower()
        checks.append(ClaimCheck("tid", ok, settings.tenant_id, tid, "" if ok else "claims-tid-wrong"))
    else:  # a domain was configured: the GUID is what the token says it is
        checks.append(
            ClaimCheck("tid", bool(tid), f"the ID of {settings.tenant_id}", tid, "" if tid else "claims-tid-wrong")
        )

    appid = str(claims.get("appid") or claims.get("azp") or "")
    ok = appid.lower() == settings.client_id.lower()
    checks.append(ClaimCheck("appid", ok, settings.client_id, appid, "" if ok else "claims-appid-wrong"))

    roles = claims.get("roles")
    if not roles:
        checks.append(ClaimCheck("roles", False, "contains Mail.Send", "(no roles claim)", "claims-roles-missing"))
    elif "Mail.Send" not in roles:
        checks.append(
            ClaimCheck("roles", False, "contains Mail.Send", ", ".join(map(str, roles)), "claims-mail-send-missing")
        )
    else:
        checks.append(ClaimCheck("roles", True, "contains Mail.Send", ", ".join(map(str, roles))))

    idtyp = str(claims.get("idtyp", ""))
    app_only = "scp" not in claims and idtyp in ("app", "")
    checks.append(
        ClaimCheck(
            "idtyp", app_only, "app (no scp claim)", idtyp or "(absent)", "" if app_only else "claims-not-app-only"
        )
    )

    exp = claims.get("exp")
    try:
        remaining = float(exp) - now  # type: ignore[arg-type]  # anything else is caught below
    except (TypeError, ValueError):
        remaining = -1.0
    expired = remaining <= 0
    shown = f"expires in {int(remaining // 60)} min" if not expired else "expired"
    checks.append(ClaimCheck("exp", not expired, "in the future", shown, "claims-expired" if expired else ""))
    return checks
