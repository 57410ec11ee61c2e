"""The sandbox tenant: a local emulator of the Microsoft identity platform and Graph ``sendMail``.

It imports nothing from the client side (``o365check.*`` outside this package), so emulator and
client cannot share a bug. Keys and certificates are made lazily, on first use.

    >>> from o365check.sandbox import Sandbox, SCENARIOS
    >>> box = Sandbox("secret-id-not-value")
    >>> box.scenario.error_code
    'AADSTS7000215'
"""

from .box import Sandbox
from .faults import Faults
from .hosts import MICROSOFT_HOSTS
from .model import AppRegistration, ClientCertificate, ClientSecret, Mailbox, Permission, Tenant
from .scenarios import SCENARIOS, Scenario, scenario_named
from .server import SandboxServer

__all__ = [
    "Sandbox",
    "SCENARIOS",
    "Scenario",
    "Faults",
    "SandboxServer",
    "scenario_named",
    "MICROSOFT_HOSTS",
    "Tenant",
    "AppRegistration",
    "ClientSecret",
    "ClientCertificate",
    "Permission",
    "Mailbox",
]
