"""Minting and reading sandbox JWTs, and checking client assertions.

The signing key (RSA 2048) and its self-signed certificate are made once per process, lazily, on
the first token or JWKS request, so importing the sandbox stays fast.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .model import AppRegistration, Tenant, b64url, b64url_decode

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "AssertionRejected",
    "GraphTokenRejected",
    "SigningKey",
    "signing_key",
    "mint_access_token",
    "read_sandbox_token",
    "check_client_assertion",
]

ACCESS_TOKEN_LIFETIME = 3599  # what Graph app tokens show (reference §1.2)
CLOCK_SKEW = 300  # seconds of tolerance, as Microsoft's validators allow
WIDS_APP = "0997a1d0-0d1d-4acb-b408-d5ca73121e90"  # seen in real app-only Graph tokens (§3)


@dataclass(frozen=True)
class SigningKey:
    """The sandbox's token-signing key, with the ``kid``/``x5t`` Microsoft puts in token headers."""

    private_key: Any
    certificate_der: bytes

    @property
    def kid(self) -> str:
        # Microsoft uses the base64url SHA-1 thumbprint as both kid and x5t.
        return b64url(hashlib.sha1(self.certificate_der).digest())

    def jwk(self, issuer: str) -> dict[str, Any]:
        import base64

        numbers = self.private_key.public_key().public_numbers()
        as_bytes = lambda n: n.to_bytes((n.bit_length() + 7) // 8, "big")  # noqa: E731
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64url(as_bytes(numbers.n)),
            "e": b64url(as_bytes(numbers.e)),
            "x5c": [base64.b64encode(self.certificate_der).decode()],
            "issuer": issuer,
        }


_key: SigningKey | None = None
_key_lock = threading.Lock()


def signing_key() -> SigningKey:
    """The process-wide signing key, generated on first use."""
    global _key
    with _key_lock:
        if _key is None:
            _key = _generate_signing_key()
        return _key


def _generate_signing_key() -> SigningKey:
    from cryptography.hazmat.primitives.serialization import Encoding

    from .certificates import self_signed

    key, certificate = self_signed("o365check sandbox token signing", days=365)
    return SigningKey(key, certificate.public_bytes(Encoding.DER))


def mint_access_token(
    tenant: Tenant,
    app: AppRegistration,
    audience: str,
    *,
    now: float,
    credential_kind: int = 1,
    lifetime: int = ACCESS_TOKEN_LIFETIME,
    roles: list[str] | None = None,
) -> str:
    """An app-only v1.0 access token with the claims of reference §3, signed RS256.

    ``credential_kind`` is ``appidacr``: 1 client secret, 2 certificate. ``roles`` is present
    only when the app has consented application permissions (absent entirely otherwise).
    """
    import jwt

    issued = int(now)
    issuer = f"https://sts.windows.net/{tenant.tenant_id}/"
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": issuer,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "aio": b64url(secrets.token_bytes(24)),
        "app_displayname": app.display_name,
        "appid": app.client_id,
        "appidacr": str(credential_kind),
        "idp": issuer,
        "idtyp": "app",
        "oid": app.service_principal_id,
        "rh": "0.sandbox.",
        "sub": app.service_principal_id,
        "tenant_region_scope": tenant.region_scope,
        "tid": tenant.tenant_id,
        "uti": b64url(secrets.token_bytes(16)),
        "ver": "1.0",
        "wids": [WIDS_APP],
    }
    roles = app.roles if roles is None else roles  # None: Graph's roles; an Exchange token passes its own
    if roles:
        claims["roles"] = roles
    key = signing_key()
    return jwt.encode(
        claims, key.private_key, algorithm="RS256", headers={"typ": "JWT", "kid": key.kid, "x5t": key.kid}
    )


class GraphTokenRejected(Exception):
    """Graph's ``InvalidAuthenticationToken`` message for a bearer token it will not accept."""


def read_sandbox_token(token: str, audience: str, *, now: float) -> dict[str, Any]:
    """The claims of a sandbox-signed token for ``audience``; GraphTokenRejected with Graph's text."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        # Graph's text for a token that is not a JWT at all (reference §4.3).
        raise GraphTokenRejected("CompactToken parsing failed with error code: 80049217") from None
    key = signing_key()
    if header.get("kid") != key.kid:
        raise GraphTokenRejected("CompactToken validation failed with reason code: 80049228.")
    try:
        claims = jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        raise GraphTokenRejected("CompactToken validation failed with reason code: 80049228.") from None
    if claims.get("aud") != audience:
        raise GraphTokenRejected("Access token validation failure. Invalid audience.")
    if not (claims.get("nbf", 0) - CLOCK_SKEW <= now < claims.get("exp", 0) + CLOCK_SKEW):
        raise GraphTokenRejected("Access token has expired or is not yet valid.")
    return claims


class AssertionRejected(Exception):
    """A client assertion the token endpoint refuses: the AADSTS code and its description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"AADSTS{code}")
        self.code = code
        self.description = description


def _format_time(seconds: float) -> str:
    # ESTS prints 7-digit fractional seconds, e.g. 2021-03-11T22:56:32.3345627Z [thread]
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def check_client_assertion(assertion: str, app: AppRegistration, tenant: Tenant, *, now: float) -> None:
    """Check a certificate ``client_assertion`` for ``app`` (reference §1.1, §2.1, §1.4).

    Accepts PS256/RS256 with ``x5t#S256`` or ``x5t`` (padded or not) and float ``iat``/``exp``,
    as MSAL sends them. Raises AssertionRejected with 700027 (key not registered / bad signature),
    700024 (time range) or 50027 (malformed, wrong aud/iss/sub).
    """
    import jwt

    try:
        header = jwt.get_unverified_header(assertion)
        thumbprint = header.get("x5t#S256") or header.get("x5t")
        digest = b64url_decode(thumbprint) if isinstance(thumbprint, str) else b""
    except (jwt.PyJWTError, ValueError):
        raise AssertionRejected(50027, "JWT token is invalid or malformed.") from None
    if header.get("alg") not in ("PS256", "RS256") or not digest:
        raise AssertionRejected(50027, "JWT token is invalid or malformed.")
    certificate = app.certificate_with_thumbprint(digest)
    if certificate is None:
        raise AssertionRejected(
            700027,
            "Client assertion contains an invalid signature. [Reason - The key was not found., "
            f"Thumbprint of key used by client: '{digest.hex().upper()}', Please visit the Azure "
            "Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id "
            f"'{app.client_id}'. Review the documentation at https://docs.microsoft.com/en-us/graph/"
            "api/application-get to learn how to retrieve keys for app.]",
        )
    try:
        claims = jwt.decode(
            assertion,
            certificate.public_key,
            algorithms=[header["alg"]],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        raise AssertionRejected(
            700027,
            "Client assertion contains an invalid signature. [Reason - The provided signature value "
            f"did not match the expected signature value., Thumbprint of key used by client: "
            f"'{digest.hex().upper()}', Found key 'Start=..., End=...']",
        ) from None
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise AssertionRejected(50027, "JWT token is invalid or malformed.")
    audience = str(claims.get("aud", ""))
    tenant_names = {tenant.tenant_id.lower(), *(d.lower() for d in tenant.domains)}
    aud_tenant = audience.split("://", 1)[-1].split("/")[1:2]
    if not (audience.endswith("/oauth2/v2.0/token") or audience.endswith("/oauth2/token")) or (
        not aud_tenant or aud_tenant[0].lower() not in tenant_names
    ):
        raise AssertionRejected(50027, "JWT token is invalid or malformed.")
    try:
        expires = float(claims["exp"])
        starts = float(claims.get("nbf", claims.get("iat", expires - 600)))
    except (KeyError, TypeError, ValueError):
        raise AssertionRejected(50027, "JWT token is invalid or malformed.") from None
    if not (starts - CLOCK_SKEW <= now <= expires + CLOCK_SKEW):
        raise AssertionRejected(
            700024,
            f"Client assertion is not within its valid time range. Current time: "
            f"{_format_time(now)}, assertion valid from {_format_time(starts)}, "
            f"expiry time of assertion {_format_time(expires)}.",
        )


def new_guid() -> str:
    return str(uuid.uuid4())
