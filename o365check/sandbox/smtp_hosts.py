"""Exchange Online's resource and SMTP host per national cloud, as the emulator sees them.

A deliberate copy of the facts (reference §8.1/§8.2), not an import of the client's table: the
emulator and the client must not be able to share a bug. Only the global values are documented;
the national-cloud values are marked [unverified] as the reference marks them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXCHANGE_APP_ID", "EXCHANGE_CLOUDS", "ExchangeCloud", "SMTP_HOSTS", "exchange_cloud_for_resource"]

# The appId of "Office 365 Exchange Online"; a scope may name it instead of the URI, as for Graph.
# [unverified: well known from Entra's first-party app list, not in the reference]
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"


@dataclass(frozen=True)
class ExchangeCloud:
    """Exchange Online in one cloud: the App ID URI (a token's ``aud``) and the SMTP submission host."""

    name: str
    resource: str
    smtp_host: str
    smtp_port: int = 587


EXCHANGE_CLOUDS: dict[str, ExchangeCloud] = {
    c.name: c
    for c in (
        # [doc] §8.1/§8.2: scope https://outlook.office365.com/.default, host smtp.office365.com:587.
        ExchangeCloud("global", "https://outlook.office365.com", "smtp.office365.com"),
        # [unverified] §8.2: "national clouds use their own hosts (e.g. smtp.office365.us for GCC High)".
        ExchangeCloud("usgov", "https://outlook.office365.us", "smtp.office365.us"),
        ExchangeCloud("usgov-dod", "https://outlook-dod.office365.us", "smtp-dod.office365.us"),  # [unverified]
        ExchangeCloud("china", "https://partner.outlook.cn", "smtp.partner.outlook.cn"),  # [unverified]
    )
}
SMTP_HOSTS: frozenset[str] = frozenset(c.smtp_host for c in EXCHANGE_CLOUDS.values())


def exchange_cloud_for_resource(resource: str, cloud_name: str) -> ExchangeCloud | None:
    """Exchange Online of ``cloud_name`` if ``resource`` names it (URI, with or without ``/``, or appId)."""
    exchange = EXCHANGE_CLOUDS.get(cloud_name)
    if exchange is None:
        return None
    return exchange if resource.rstrip("/") in (exchange.resource, EXCHANGE_APP_ID) else None
