"""Login host, Graph host and scope of each Microsoft cloud.

Source: reference/o365-facts.md §5 (ENTRA-NC, G-DEP, G-NCSDK).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CLOUDS", "Cloud", "IDENTITY_HOSTS", "GRAPH_HOSTS", "MICROSOFT_HOSTS", "cloud_named"]


@dataclass(frozen=True)
class Cloud:
    """One national cloud: where to get tokens and where Graph lives."""

    name: str
    title: str
    login_host: str
    graph_host: str
    portal_host: str

    @property
    def login_base(self) -> str:
        return f"https://{self.login_host}"

    @property
    def graph_base(self) -> str:
        return f"https://{self.graph_host}"

    @property
    def graph_scope(self) -> str:
        """The only scope the client-credentials flow accepts for Graph (``/.default``)."""
        return f"https://{self.graph_host}/.default"

    @property
    def graph_audience(self) -> str:
        """The ``aud`` claim of a Graph token from this cloud."""
        return f"https://{self.graph_host}"

    def authority(self, tenant: str) -> str:
        return f"{self.login_base}/{tenant}"

    def token_url(self, tenant: str) -> str:
        return f"{self.login_base}/{tenant}/oauth2/v2.0/token"


CLOUDS: dict[str, Cloud] = {
    c.name: c
    for c in (
        Cloud("global", "Global (incl. GCC)", "login.microsoftonline.com", "graph.microsoft.com", "portal.azure.com"),
        Cloud(
            "usgov", "US Government L4 (GCC High)", "login.microsoftonline.us", "graph.microsoft.us", "portal.azure.us"
        ),
        Cloud(
            "usgov-dod",
            "US Government L5 (DoD)",
            "login.microsoftonline.us",
            "dod-graph.microsoft.us",
            "portal.azure.us",
        ),
        Cloud(
            "china",
            "China (21Vianet)",
            "login.partner.microsoftonline.cn",
            "microsoftgraph.chinacloudapi.cn",
            "portal.azure.cn",
        ),
    )
}

# Aliases MSAL knows (authority.py WELL_KNOWN_AUTHORITY_HOSTS, reference §5): an identity host may
# receive a client secret; nothing else may.
IDENTITY_HOSTS: frozenset[str] = frozenset(
    {c.login_host for c in CLOUDS.values()}
    | {
        "login.windows.net",
        "login.microsoft.com",
        "sts.windows.net",
        "login.chinacloudapi.cn",
        "login.usgovcloudapi.net",
        "login-us.microsoftonline.com",
    }
)
GRAPH_HOSTS: frozenset[str] = frozenset(c.graph_host for c in CLOUDS.values())
MICROSOFT_HOSTS: frozenset[str] = IDENTITY_HOSTS | GRAPH_HOSTS


def cloud_named(name: str) -> Cloud:
    """The cloud called ``name`` (case-insensitive); KeyError lists the valid names."""
    key = (name or "global").strip().lower()
    if key not in CLOUDS:
        raise KeyError(f"unknown cloud {name!r}; use one of: {', '.join(CLOUDS)}")
    return CLOUDS[key]
