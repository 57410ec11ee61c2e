"""The named sandbox scenarios: a set-up mistake each, and what a correct client should observe.

Each scenario builds a fresh tenant model from the same healthy Contoso tenant and changes one
thing. ``Scenario`` carries the expected observation so client-side tests can be parametrized
from ``SCENARIOS`` without hard-coding: the step of a correct check that fails first, the error
code, the HTTP status and which endpoint answers with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from .model import (
    MAIL_SEND,
    AppRegistration,
    ClientSecret,
    Directory,
    Mailbox,
    Permission,
    Tenant,
)

__all__ = ["Scenario", "SCENARIOS", "World", "Step", "Endpoint", "scenario_named"]

Step = Literal[
    "settings",
    "discovery",
    "token",
    "claims",
    "send",
    # the SMTP AUTH path (smtp_scenarios.py)
    "smtp-token",
    "smtp-claims",
    "smtp-connect",
    "smtp-starttls",
    "smtp-auth",
    "smtp-mail-from",
    "smtp-send",
]
Endpoint = Literal["discovery", "token", "send", "smtp"]

# Realistic example values. The tenant and app IDs are stable so cassettes and notebooks match.
TENANT_ID = "8c7e6f0a-3b1d-4c2e-9f5a-1d2e3f4a5b6c"
TENANT_DOMAINS = ["contoso.onmicrosoft.com", "contoso.example"]
CLIENT_ID = "4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d"
APP_OBJECT_ID = "b2a1c3d4-e5f6-4789-a0b1-c2d3e4f5a6b7"
SP_OBJECT_ID = "e7d6c5b4-a3f2-4e1d-9c0b-a9f8e7d6c5b4"
SECRET_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
SECRET_VALUE = "sBx8Q~k3Vf9pR2mZt7Lw4Yq1Nd6Hc0Xe5Ja8Ug-_"
WRONG_SECRET_VALUE = "tQz8Q~Wm4Ep7Ks2Rb9Xn1Vc6Lh3Fd0Gy5Ta8Jo.~"
OTHER_TENANT_ID = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"  # exists in US Gov only
MISSING_TENANT_ID = "0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c"
MISSING_CLIENT_ID = "9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b"  # e.g. the app's Object ID pasted
SENDER = "notifications@contoso.example"
RECIPIENT = "adele.vance@contoso.example"


@dataclass(frozen=True)
class World:
    """What a scenario builds: the directory and what the user "typed"."""

    directory: Directory
    credentials: dict[str, str]
    # What the scenario's SMTP client is configured with, when it differs from a correct client:
    # "scope", "user" (the XOAUTH2 user=), "starttls" ("no"). See smtp_scenarios.py.
    smtp_client: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A named set-up and what a correct client observes against it.

    ``failing_step``: the first step of a correct check that fails (None: all pass).
    ``error_code``: the code that step reports (``AADSTS7000215``, ``ErrorAccessDenied``...).
    ``error_endpoint`` / ``http_status``: which sandbox endpoint answers with that code, and the
    status it uses (for ``claims`` failures the code is what Graph answers if one sends anyway).
    """

    name: str
    summary: str
    failing_step: Step | None = None
    error_code: str | None = None
    error_endpoint: Endpoint | None = None
    http_status: int | None = None
    oauth_error: str | None = None
    build: Callable[[], World] = field(default=lambda: _healthy_world(), repr=False, compare=False)
    # "graph": the guide's Graph sendMail path; "smtp": SMTP AUTH XOAUTH2 (then ``error_code`` is the
    # enhanced status code, e.g. "5.7.3", and ``smtp_reply`` the reply code, e.g. 535).
    via: Literal["graph", "smtp"] = "graph"
    smtp_reply: int | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _healthy_world() -> World:
    app = AppRegistration(
        client_id=CLIENT_ID,
        display_name="Contoso Notifications",
        object_id=APP_OBJECT_ID,
        service_principal_id=SP_OBJECT_ID,
        secrets=[ClientSecret(SECRET_ID, SECRET_VALUE, _now() + timedelta(days=180))],
        permissions=[Permission(MAIL_SEND, "application", consented=True)],
    )
    contoso = Tenant(
        tenant_id=TENANT_ID,
        domains=list(TENANT_DOMAINS),
        display_name="Contoso",
        apps=[app],
        mailboxes=[
            Mailbox(SENDER, "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9", "Contoso Notifications"),
            Mailbox(RECIPIENT, "6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c", "Adele Vance"),
        ],
    )
    fabrikam_gov = Tenant(
        tenant_id=OTHER_TENANT_ID,
        domains=["fabrikam.onmicrosoft.us"],
        display_name="Fabrikam (GCC High)",
        cloud="usgov",
        region_scope="NA",
    )
    credentials = {
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "client_secret": SECRET_VALUE,
        "sender": SENDER,
        "recipient": RECIPIENT,
    }
    return World(Directory([contoso, fabrikam_gov]), credentials)


def _changed(change: Callable[[Tenant, dict[str, str]], None]) -> Callable[[], World]:
    """A builder: the healthy world with ``change`` applied to Contoso and the typed values."""

    def build() -> World:
        world = _healthy_world()
        change(world.directory.tenants[0], world.credentials)
        return world

    return build


def _type(key: str, value: str) -> Callable[[Tenant, dict[str, str]], None]:
    return lambda tenant, typed: typed.__setitem__(key, value)


def _expire_secret(tenant: Tenant, typed: dict[str, str]) -> None:
    tenant.app.secrets[0].expires_at = _now() - timedelta(days=3)


def _disable_app(tenant: Tenant, typed: dict[str, str]) -> None:
    tenant.app.enabled = False


def _block_by_conditional_access(tenant: Tenant, typed: dict[str, str]) -> None:
    tenant.app.blocked_by_conditional_access = True


def _withhold_consent(tenant: Tenant, typed: dict[str, str]) -> None:
    for permission in tenant.app.permissions:
        permission.consented = False


def _add_wrong_permission(tenant: Tenant, typed: dict[str, str]) -> None:
    # The classic mix-up: Mail.Send added as *delegated*; some other application role consented.
    tenant.app.permissions = [
        Permission(MAIL_SEND, "delegated", consented=True),
        Permission("User.Read.All", "application", consented=True),
    ]


def _unlicense_sender(tenant: Tenant, typed: dict[str, str]) -> None:
    tenant.mailbox(SENDER).licensed = False


def _make_sender_shared(tenant: Tenant, typed: dict[str, str]) -> None:
    sender = tenant.mailbox(SENDER)
    sender.licensed, sender.shared = False, True


def _restrict_by_access_policy(tenant: Tenant, typed: dict[str, str]) -> None:
    tenant.app.restricted_by_access_policy = True
    tenant.mailbox(RECIPIENT).in_access_policy_scope = True  # the policy names someone else


def _throttle_sender(tenant: Tenant, typed: dict[str, str]) -> None:
    tenant.mailbox(SENDER).throttled = True


_ALL = [
    Scenario("ok", "Everything is set up correctly: token with Mail.Send, message accepted (202)."),
    Scenario(
        "tenant-not-found",
        "The tenant ID does not exist in this cloud: AADSTS90002 at discovery.",
        "discovery",
        "AADSTS90002",
        "discovery",
        400,
        "invalid_tenant",
        _changed(_type("tenant_id", MISSING_TENANT_ID)),
    ),
    Scenario(
        "app-not-found",
        "The client ID is not an app in this tenant (Object ID pasted?): AADSTS700016.",
        "token",
        "AADSTS700016",
        "token",
        400,
        "unauthorized_client",
        _changed(_type("client_id", MISSING_CLIENT_ID)),
    ),
    Scenario(
        "secret-id-not-value",
        "The secret's ID was pasted instead of its value: AADSTS7000215.",
        "token",
        "AADSTS7000215",
        "token",
        401,
        "invalid_client",
        _changed(_type("client_secret", SECRET_ID)),
    ),
    Scenario(
        "wrong-secret",
        "The client secret is not one of the app's secrets: AADSTS7000215.",
        "token",
        "AADSTS7000215",
        "token",
        401,
        "invalid_client",
        _changed(_type("client_secret", WRONG_SECRET_VALUE)),
    ),
    Scenario(
        "secret-expired",
        "The client secret has expired: AADSTS7000222.",
        "token",
        "AADSTS7000222",
        "token",
        401,
        "invalid_client",
        _changed(_expire_secret),
    ),
    Scenario(
        "app-disabled",
        "The enterprise app (service principal) is disabled: AADSTS7000112.",
        "token",
        "AADSTS7000112",
        "token",
        400,
        "unauthorized_client",
        _changed(_disable_app),
    ),
    Scenario(
        "conditional-access-blocked",
        "A Conditional Access policy for workload identities blocks the app: AADSTS53003.",
        "token",
        "AADSTS53003",
        "token",
        400,
        "access_denied",
        _changed(_block_by_conditional_access),
    ),
    Scenario(
        "no-admin-consent",
        "Mail.Send (application) was never admin-consented: token has no roles, Graph says 401.",
        "claims",
        "NoPermissionsInAccessToken",
        "send",
        401,
        None,
        _changed(_withhold_consent),
    ),
    Scenario(
        "wrong-permission",
        "Mail.Send was added as delegated; the token's roles lack it: Graph 403 ErrorAccessDenied.",
        "claims",
        "ErrorAccessDenied",
        "send",
        403,
        None,
        _changed(_add_wrong_permission),
    ),
    Scenario(
        "sender-not-found",
        "The sender address is not a user in the tenant: 404 ErrorInvalidUser.",
        "send",
        "ErrorInvalidUser",
        "send",
        404,
        None,
        _changed(_type("sender", "notifcations@contoso.example")),
    ),
    Scenario(
        "mailbox-unlicensed",
        "The sender has no Exchange Online licence: 404 MailboxNotEnabledForRESTAPI.",
        "send",
        "MailboxNotEnabledForRESTAPI",
        "send",
        404,
        None,
        _changed(_unlicense_sender),
    ),
    Scenario(
        "shared-mailbox",
        "The sender is an unlicensed shared mailbox, which needs no licence: accepted (202).",
        build=_changed(_make_sender_shared),
    ),
    Scenario(
        "access-policy-denied",
        "An application access policy excludes the sender: 403 ErrorAccessDenied [RAOP].",
        "send",
        "ErrorAccessDenied",
        "send",
        403,
        None,
        _changed(_restrict_by_access_policy),
    ),
    Scenario(
        "throttled",
        "The sender mailbox is over its Outlook limit: 429 ApplicationThrottled, Retry-After 30 s.",
        "send",
        "ApplicationThrottled",
        "send",
        429,
        None,
        _changed(_throttle_sender),
    ),
]

from .smtp_scenarios import SMTP_SCENARIOS  # noqa: E402 (they build on the healthy world above)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in [*_ALL, *SMTP_SCENARIOS]}


def scenario_named(name: str) -> Scenario:
    """The scenario called ``name``; ValueError lists the valid names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown sandbox scenario {name!r}; use one of: {', '.join(SCENARIOS)}") from None
