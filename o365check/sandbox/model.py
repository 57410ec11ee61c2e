"""The sandbox tenant model: tenants, app registrations, credentials, permissions, mailboxes.

Everything is a plain mutable dataclass so a test can change the tenant between two requests
(``box.tenant.app.permissions[0].consented = True``) and the next request sees it. Secret values
are kept out of every ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Literal

__all__ = [
    "ClientSecret",
    "ClientCertificate",
    "Permission",
    "AppRegistration",
    "Mailbox",
    "Tenant",
    "Directory",
    "MAIL_SEND",
    "GRAPH_API",
    "EXCHANGE_API",
    "SMTP_SEND_AS_APP",
    "ExchangeServicePrincipal",
]

MAIL_SEND = "Mail.Send"
GRAPH_API = "Microsoft Graph"
# SMTP AUTH with client credentials: an application permission on this API (reference §8.1).
EXCHANGE_API = "Office 365 Exchange Online"
SMTP_SEND_AS_APP = "SMTP.SendAsApp"

PermissionKind = Literal["application", "delegated"]


@dataclass
class ClientSecret:
    """A client secret as the portal shows it: an ID (a GUID) and a value (shown once)."""

    secret_id: str
    value: str = field(repr=False)
    expires_at: datetime
    display_name: str = "o365check"

    @property
    def hint(self) -> str:
        """The first three characters, as the portal's "Secret value" column shows them."""
        return self.value[:3]

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass
class ClientCertificate:
    """A certificate uploaded to an app registration (public part only)."""

    pem: str = field(repr=False)
    display_name: str = "o365check certificate"

    @cached_property
    def _certificate(self):  # cryptography is imported lazily: keeps `import o365check.sandbox` fast
        from cryptography import x509

        return x509.load_pem_x509_certificate(self.pem.encode())

    @property
    def public_key(self):
        return self._certificate.public_key()

    @property
    def der(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return self._certificate.public_bytes(Encoding.DER)

    @property
    def thumbprint_sha1_hex(self) -> str:
        """The thumbprint the portal shows (upper-case hex SHA-1)."""
        return hashlib.sha1(self.der).hexdigest().upper()

    @property
    def x5t(self) -> bytes:
        """SHA-1 digest of the DER certificate (the assertion's ``x5t`` header, base64url)."""
        return hashlib.sha1(self.der).digest()

    @property
    def x5t_s256(self) -> bytes:
        """SHA-256 digest of the DER certificate (the assertion's ``x5t#S256`` header)."""
        return hashlib.sha256(self.der).digest()

    @property
    def not_valid_after(self) -> datetime:
        return self._certificate.not_valid_after_utc


@dataclass
class Permission:
    """An API permission on the registration: Microsoft Graph ``name``, application or delegated."""

    name: str
    kind: PermissionKind = "application"
    consented: bool = True
    api: str = "Microsoft Graph"


@dataclass
class AppRegistration:
    """An app registration plus its service principal (enterprise app) in the same tenant."""

    client_id: str
    display_name: str
    object_id: str
    service_principal_id: str
    secrets: list[ClientSecret] = field(default_factory=list)
    certificates: list[ClientCertificate] = field(default_factory=list)
    permissions: list[Permission] = field(default_factory=list)
    enabled: bool = True
    public_client: bool = False
    blocked_by_conditional_access: bool = False
    # An Exchange RestrictAccess application access policy exists for this app (reference §6.1):
    # then only mailboxes with `in_access_policy_scope` may be used.
    restricted_by_access_policy: bool = False

    @property
    def roles(self) -> list[str]:
        """The ``roles`` claim of a Graph token: consented application permissions only (reference §3)."""
        return self.roles_for(GRAPH_API)

    def roles_for(self, api: str) -> list[str]:
        """The ``roles`` claim of a token for ``api``: its consented application permissions only."""
        return [p.name for p in self.permissions if p.kind == "application" and p.consented and p.api == api]

    def add_certificate(self, pem: str | bytes) -> ClientCertificate:
        """Register the certificate in ``pem`` (a key in the same file is ignored)."""
        text = pem.decode() if isinstance(pem, bytes) else pem
        begin = text.index("-----BEGIN CERTIFICATE-----")
        end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
        certificate = ClientCertificate(pem=text[begin:end] + "\n")
        self.certificates.append(certificate)
        return certificate

    def certificate_with_thumbprint(self, digest: bytes) -> ClientCertificate | None:
        """The registered certificate whose SHA-1 or SHA-256 digest is ``digest``."""
        return next((c for c in self.certificates if digest in (c.x5t, c.x5t_s256)), None)

    def grant_admin_consent(self) -> None:
        """What the portal's "Grant admin consent" button does for application permissions."""
        for permission in self.permissions:
            permission.consented = True


@dataclass
class Mailbox:
    """A recipient object that may be used as a sender."""

    address: str
    object_id: str
    display_name: str = ""
    upn: str = ""
    exists: bool = True
    licensed: bool = True
    shared: bool = False
    in_access_policy_scope: bool = False
    throttled: bool = False
    throttle_retry_after: int = 30
    # SMTP AUTH (reference §8.1, §8.4). None follows the organisation (Set-CASMailbox ... $null).
    smtp_auth_disabled: bool | None = None
    full_access: list[str] = field(default_factory=list)  # Add-MailboxPermission -User <these> FullAccess
    send_as: list[str] = field(default_factory=list)  # Add-RecipientPermission -Trustee <these> SendAs
    smtp_rate_limit: int = 30  # messages per minute per mailbox (§8.4)
    # Messages per minute other clients already submit as this mailbox (a busy mailbox uses up the limit).
    smtp_background_rate: int = 0
    smtp_submissions: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.upn = self.upn or self.address

    def is_known_as(self, identifier: str) -> bool:
        """True if Graph's ``/users/{identifier}`` names this mailbox (UPN, address or object id)."""
        key = identifier.strip().lower()
        return key in (self.address.lower(), self.upn.lower(), self.object_id.lower())

    def grants_full_access_to(self, identity: str) -> bool:
        return identity.strip().lower() in (i.lower() for i in self.full_access)

    def grants_send_as_to(self, identity: str) -> bool:
        return identity.strip().lower() in (i.lower() for i in self.send_as)

    @property
    def can_use_rest(self) -> bool:
        """Exchange Online hosts it: licensed user mailbox, or shared mailbox (no licence needed)."""
        return self.exists and (self.licensed or self.shared)


@dataclass
class ExchangeServicePrincipal:
    """What ``New-ServicePrincipal -AppId <app> -ObjectId <id>`` registers in Exchange Online (§8.1).

    ``object_id`` should be the Enterprise application's (service principal's) object ID; the App
    registration's object ID is the classic mistake (then no token's ``oid`` matches).
    """

    app_id: str
    object_id: str
    display_name: str = ""


@dataclass
class Tenant:
    """An Entra ID tenant with its app registrations and Exchange Online mailboxes."""

    tenant_id: str
    domains: list[str]
    display_name: str = "Contoso"
    cloud: str = "global"
    region_scope: str = "EU"
    apps: list[AppRegistration] = field(default_factory=list)
    mailboxes: list[Mailbox] = field(default_factory=list)
    # Exchange Online's side of SMTP AUTH (reference §8.1): Set-TransportConfig
    # -SmtpClientAuthenticationDisabled, and the service principals New-ServicePrincipal registered.
    smtp_auth_disabled: bool = False
    exchange_service_principals: list[ExchangeServicePrincipal] = field(default_factory=list)

    @property
    def app(self) -> AppRegistration:
        """The first app registration (every scenario has the app under test first)."""
        return self.apps[0]

    def is_known_as(self, identifier: str) -> bool:
        key = identifier.strip().lower()
        return key == self.tenant_id.lower() or key in (d.lower() for d in self.domains)

    def find_app(self, client_id: str) -> AppRegistration | None:
        return next((a for a in self.apps if a.client_id.lower() == client_id.strip().lower()), None)

    def find_mailbox(self, identifier: str) -> Mailbox | None:
        return next((m for m in self.mailboxes if m.exists and m.is_known_as(identifier)), None)

    def exchange_service_principal(self, app_id: str, object_id: str) -> ExchangeServicePrincipal | None:
        """The Exchange service principal registered for this app with this object ID, if any."""
        return next(
            (
                p
                for p in self.exchange_service_principals
                if p.app_id.lower() == app_id.lower() and p.object_id.lower() == object_id.lower()
            ),
            None,
        )

    def mailbox(self, address: str) -> Mailbox:
        """The mailbox called ``address``; KeyError names the addresses there are."""
        found = next((m for m in self.mailboxes if m.is_known_as(address)), None)
        if found is None:
            raise KeyError(f"no mailbox {address!r}; mailboxes: {[m.address for m in self.mailboxes]}")
        return found


@dataclass
class Directory:
    """All tenants the sandbox knows, across clouds."""

    tenants: list[Tenant]

    def find_tenant(self, identifier: str, cloud_names: set[str] | None = None) -> Tenant | None:
        """The tenant with this ID or verified domain, only among ``cloud_names`` if given."""
        return next(
            (t for t in self.tenants if t.is_known_as(identifier) and (cloud_names is None or t.cloud in cloud_names)),
            None,
        )

    def tenant_by_id(self, tenant_id: str) -> Tenant | None:
        return next((t for t in self.tenants if t.tenant_id == tenant_id), None)


def utc_from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def b64url(data: bytes) -> str:
    """Base64url without padding (JWT style)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without ``=`` padding (MSAL pads thumbprints, reference §2.1)."""
    text = text.strip().rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
