"""The ``smtp-*`` scenarios: SMTP AUTH with OAuth client credentials, one set-up mistake each (reference §8).

Every one starts from the healthy Contoso tenant with the SMTP set-up of §8.1 done (the app keeps
Graph's Mail.Send too, so ``--via both`` passes on ``smtp-ok``): ``SMTP.SendAsApp`` on Office 365
Exchange Online, admin-consented; the service principal registered in Exchange with the Enterprise
application's object ID; FullAccess on the sender mailbox; SMTP AUTH on for the organisation.
"""

from __future__ import annotations

from collections.abc import Callable

from .model import EXCHANGE_API, SMTP_SEND_AS_APP, ExchangeServicePrincipal, Mailbox, Permission, Tenant
from .scenarios import APP_OBJECT_ID, CLIENT_ID, SENDER, SP_OBJECT_ID, Scenario, World, _healthy_world

__all__ = ["SMTP_SCENARIOS", "RELAY_MAILBOX"]

# A second mailbox the SMTP app authenticates as in smtp-sendas-denied (a typical "relay" account).
RELAY_MAILBOX = "smtp-relay@contoso.example"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _smtp_world() -> World:
    world = _healthy_world()
    tenant = world.directory.tenants[0]
    tenant.app.permissions.append(Permission(SMTP_SEND_AS_APP, "application", consented=True, api=EXCHANGE_API))
    tenant.exchange_service_principals.append(
        ExchangeServicePrincipal(CLIENT_ID, SP_OBJECT_ID, "Contoso Notifications (SMTP)")
    )
    tenant.mailbox(SENDER).full_access.append(SP_OBJECT_ID)
    return world


def _smtp(change: Callable[[Tenant, World], None] | None = None) -> Callable[[], World]:
    def build() -> World:
        world = _smtp_world()
        if change is not None:
            change(world.directory.tenants[0], world)
        return world

    return build


def _graph_scope(tenant: Tenant, world: World) -> None:
    world.smtp_client["scope"] = GRAPH_SCOPE  # the app asks for Graph's scope, as for sendMail


def _no_consent(tenant: Tenant, world: World) -> None:
    for permission in tenant.app.permissions:
        if permission.api == EXCHANGE_API:
            permission.consented = False


def _no_service_principal(tenant: Tenant, world: World) -> None:
    tenant.exchange_service_principals.clear()


def _app_registration_object_id(tenant: Tenant, world: World) -> None:
    # New-ServicePrincipal -ObjectId <App registrations' object ID>: the classic mistake (§8.1 item 3).
    tenant.exchange_service_principals[:] = [
        ExchangeServicePrincipal(CLIENT_ID, APP_OBJECT_ID, "Contoso Notifications")
    ]


def _no_mailbox_permission(tenant: Tenant, world: World) -> None:
    tenant.mailbox(SENDER).full_access.clear()


def _disable_for_tenant(tenant: Tenant, world: World) -> None:
    tenant.smtp_auth_disabled = True


def _disable_for_mailbox(tenant: Tenant, world: World) -> None:
    tenant.mailbox(SENDER).smtp_auth_disabled = True


def _authenticate_as_relay(tenant: Tenant, world: World) -> None:
    # The app authenticates as a relay mailbox (which it may use) but writes MAIL FROM the sender,
    # on which the relay mailbox has no SendAs.
    tenant.mailboxes.append(
        Mailbox(RELAY_MAILBOX, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "SMTP relay", full_access=[SP_OBJECT_ID])
    )
    world.smtp_client["user"] = RELAY_MAILBOX


def _busy_sender(tenant: Tenant, world: World) -> None:
    sender = tenant.mailbox(SENDER)
    sender.smtp_background_rate = sender.smtp_rate_limit  # other clients already use the 30 a minute (§8.4)


def _plain_connection(tenant: Tenant, world: World) -> None:
    world.smtp_client["starttls"] = "no"  # the app's "use TLS" switch is off


def _s(
    name: str,
    summary: str,
    step: str | None = None,
    code: str | None = None,
    reply: int | None = None,
    change: Callable[[Tenant, World], None] | None = None,
) -> Scenario:
    return Scenario(
        name,
        summary,
        step,  # type: ignore[arg-type]
        code,
        "smtp" if code else None,
        build=_smtp(change),
        via="smtp",
        smtp_reply=reply,
    )


SMTP_SCENARIOS: list[Scenario] = [
    _s("smtp-ok", "SMTP AUTH XOAUTH2 set up correctly: 235 2.7.0, message accepted (250 2.0.0)."),
    _s(
        "smtp-graph-token",
        "SMTP: the app asks for Graph's scope; a Graph token fails AUTH: 535 5.7.3.",
        "smtp-claims",
        "5.7.3",
        535,
        _graph_scope,
    ),
    _s(
        "smtp-no-role",
        "SMTP: SMTP.SendAsApp was never admin-consented; the token has no role: 535 5.7.3.",
        "smtp-claims",
        "5.7.3",
        535,
        _no_consent,
    ),
    _s(
        "smtp-sp-not-registered",
        "SMTP: the service principal was never registered in Exchange (New-ServicePrincipal): 535 5.7.3.",
        "smtp-auth",
        "5.7.3",
        535,
        _no_service_principal,
    ),
    _s(
        "smtp-sp-wrong-object-id",
        "SMTP: New-ServicePrincipal got the App registration's object ID, not the Enterprise app's: 535 5.7.3.",
        "smtp-auth",
        "5.7.3",
        535,
        _app_registration_object_id,
    ),
    _s(
        "smtp-no-mailbox-permission",
        "SMTP: the service principal has no FullAccess on the sender mailbox: 535 5.7.3.",
        "smtp-auth",
        "5.7.3",
        535,
        _no_mailbox_permission,
    ),
    _s(
        "smtp-auth-disabled-tenant",
        "SMTP: SMTP AUTH is disabled for the organisation (Set-TransportConfig): 535 5.7.139.",
        "smtp-auth",
        "5.7.139",
        535,
        _disable_for_tenant,
    ),
    _s(
        "smtp-auth-disabled-mailbox",
        "SMTP: SMTP AUTH is disabled on the sender mailbox (Set-CASMailbox): 535 5.7.139.",
        "smtp-auth",
        "5.7.139",
        535,
        _disable_for_mailbox,
    ),
    _s(
        "smtp-sendas-denied",
        "SMTP: authenticated as a relay mailbox, MAIL FROM the sender without SendAs: 554 5.2.252.",
        "smtp-send",
        "5.2.252",
        554,
        _authenticate_as_relay,
    ),
    _s(
        "smtp-rate-limited",
        "SMTP: the sender mailbox is over 30 messages a minute: 554 5.7.0 after DATA.",
        "smtp-send",
        "5.7.0",
        554,
        _busy_sender,
    ),
    _s(
        "smtp-auth-before-starttls",
        "SMTP: the app sends AUTH without STARTTLS first: 504 5.7.4.",
        "smtp-auth",
        "5.7.4",
        504,
        _plain_connection,
    ),
]
