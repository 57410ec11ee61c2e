"""The Microsoft host names the sandbox answers for, per national cloud.

A deliberate copy of the facts (reference §5, ENTRA-NC / G-DEP and MSAL's well-known hosts), not
an import of ``o365check.clouds``: the emulator and the client must not be able to share a bug.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLOUDS",
    "IDENTITY_HOSTS",
    "GRAPH_HOSTS",
    "MICROSOFT_HOSTS",
    "SandboxCloud",
    "clouds_for_login_host",
    "cloud_for_graph_host",
]


@dataclass(frozen=True)
class SandboxCloud:
    """One national cloud as the emulator sees it."""

    name: str
    login_host: str
    graph_host: str
    login_aliases: tuple[str, ...] = ()

    @property
    def graph_resource(self) -> str:
        """The App ID URI of Graph in this cloud: the token's ``aud`` and the scope's prefix."""
        return f"https://{self.graph_host}"

    @property
    def login_hosts(self) -> tuple[str, ...]:
        return (self.login_host, *self.login_aliases)


CLOUDS: dict[str, SandboxCloud] = {
    c.name: c
    for c in (
        SandboxCloud(
            "global",
            "login.microsoftonline.com",
            "graph.microsoft.com",
            ("login.windows.net", "login.microsoft.com", "sts.windows.net"),
        ),
        SandboxCloud(
            "usgov",
            "login.microsoftonline.us",
            "graph.microsoft.us",
            ("login.usgovcloudapi.net", "login-us.microsoftonline.com"),
        ),
        # GCC High and DoD share the login host; only the Graph host differs (reference §5 table).
        SandboxCloud(
            "usgov-dod",
            "login.microsoftonline.us",
            "dod-graph.microsoft.us",
            ("login.usgovcloudapi.net", "login-us.microsoftonline.com"),
        ),
        SandboxCloud(
            "china",
            "login.partner.microsoftonline.cn",
            "microsoftgraph.chinacloudapi.cn",
            ("login.chinacloudapi.cn",),
        ),
    )
}

IDENTITY_HOSTS: frozenset[str] = frozenset(h for c in CLOUDS.values() for h in c.login_hosts)
GRAPH_HOSTS: frozenset[str] = frozenset(c.graph_host for c in CLOUDS.values())
MICROSOFT_HOSTS: frozenset[str] = IDENTITY_HOSTS | GRAPH_HOSTS


def clouds_for_login_host(host: str) -> list[SandboxCloud]:
    """The clouds whose identity platform answers on ``host`` (an alias counts); empty if none."""
    host = host.lower()
    return [c for c in CLOUDS.values() if host in c.login_hosts]


def cloud_for_graph_host(host: str) -> SandboxCloud | None:
    """The cloud whose Graph lives on ``host``, or None."""
    host = host.lower()
    return next((c for c in CLOUDS.values() if c.graph_host == host), None)
