"""``Sandbox``: one scenario's tenant model, its WSGI app, and the two ways to reach it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from .app import SandboxApp
from .control import ControlAPI
from .environment import write_postman_environment
from .faults import FaultInjector, Faults
from .hosts import CLOUDS
from .model import ClientCertificate, Directory, Tenant
from .routing import SandboxAdapter, mount_sandbox
from .scenarios import Scenario, scenario_named
from .server import SandboxServer

__all__ = ["Sandbox"]


class Sandbox:
    """A fresh sandbox tenant for the scenario ``name`` (see ``SCENARIOS``).

    ``box.tenant`` is the mutable model (the next request sees every change), ``box.credentials``
    what the scenario's user typed, ``box.outbox`` the accepted messages, ``box.app`` the WSGI app.
    ``clock`` (seconds since the epoch) lets tests move time for expiry and Retry-After.
    """

    def __init__(
        self, name: str = "ok", *, faults: Faults | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.scenario: Scenario = scenario_named(name)
        world = self.scenario.build()
        self.directory: Directory = world.directory
        self.credentials: dict[str, str] = dict(world.credentials)
        self.outbox: list[dict[str, Any]] = []
        self.app = SandboxApp(self.directory, self.outbox, self.scenario.name, self.tenant.cloud, faults, clock)
        # How the scenario's SMTP client is configured (scope, XOAUTH2 user, STARTTLS); see smtp_server.
        self.smtp_client: dict[str, str] = dict(world.smtp_client)
        self._clock = clock
        self._smtp: Any = None
        self.app.control = ControlAPI(self)
        self._certificates: list[str] = []  # registered by add_certificate; kept across reset()

    @property
    def faults(self) -> Faults:
        return self.app.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        """Change the faults from the next request on; throttles already handed out still hold."""
        self.app.injector.faults = faults

    def __repr__(self) -> str:
        return f"Sandbox({self.scenario.name!r}, outbox={len(self.outbox)} message(s))"

    @property
    def tenant(self) -> Tenant:
        """The scenario's tenant (Contoso); other tenants are in ``box.directory``."""
        return self.directory.tenants[0]

    @property
    def login_base(self) -> str:
        return f"https://{CLOUDS[self.tenant.cloud].login_host}"

    @property
    def graph_base(self) -> str:
        return f"https://{CLOUDS[self.tenant.cloud].graph_host}"

    def reset(self, name: str | None = None) -> None:
        """Start over: a fresh tenant for scenario ``name`` (default: the current one), an empty
        outbox, no faults. Certificates added with ``add_certificate`` stay registered."""
        scenario = scenario_named(name or self.scenario.name)
        world = scenario.build()
        with self.app.outbox_lock:
            self.scenario = scenario
            self.directory = world.directory
            self.credentials.clear()
            self.credentials.update(world.credentials)
            self.app.directory = world.directory
            self.app.scenario_name = scenario.name
            self.outbox.clear()
            self.app.injector = FaultInjector(Faults())
        for pem in self._certificates:
            self.tenant.app.add_certificate(pem)

    def add_certificate(self, pem: str | bytes) -> ClientCertificate:
        """Register a client certificate (PEM; a private key in the same text is ignored) on the
        app under test, now and after every ``reset``. ValueError if there is no certificate."""
        text = pem.decode() if isinstance(pem, bytes) else pem
        if "-----BEGIN CERTIFICATE-----" not in text:
            raise ValueError("no '-----BEGIN CERTIFICATE-----' block found")
        certificate = self.tenant.app.add_certificate(text)
        try:
            certificate.der  # noqa: B018  (parses it: a broken PEM fails here, not at the first token)
        except ValueError:
            self.tenant.app.certificates.remove(certificate)
            raise
        self._certificates.append(certificate.pem)
        return certificate

    def outbox_snapshot(self) -> list[dict[str, Any]]:
        """A copy of the outbox, taken under its lock (safe while a server is running)."""
        with self.app.outbox_lock:
            return list(self.outbox)

    def clear_outbox(self) -> int:
        """Empty the outbox; returns how many messages it held."""
        with self.app.outbox_lock:
            count = len(self.outbox)
            self.outbox.clear()
            return count

    def mount(self, session: requests.Session) -> SandboxAdapter:
        """Route all Microsoft hosts (https and http) of ``session`` to this sandbox, in-process."""
        return mount_sandbox(session, self.app)

    def serve(self, port: int = 0, tls: bool = False, *, threads: int = 16, ca: Any = None) -> SandboxServer:
        """Start a loopback server on 127.0.0.1 (a free port by default); stop it when done.
        Its control API (``/_sandbox/...``, control.py) drives this box."""
        return SandboxServer(
            self.app, port=port, tls=tls, ambiguous_delay=self.faults.ambiguous_delay, threads=threads, ca=ca
        )

    def smtp_server(self) -> Any:
        """The SMTP submission server on 127.0.0.1 (started on first use, then the same one).

        Clients route the cloud's SMTP host (smtp.office365.com) to ``server.host:server.port`` and
        trust ``server.ca_path``, as HTTP clients route the Microsoft hosts to the WSGI app.
        """
        if self._smtp is None:
            from .smtp_server import SandboxSmtpServer  # aiosmtpd is imported only when SMTP is used

            self._smtp = SandboxSmtpServer(self.directory, self.outbox, self.app.outbox_lock, clock=self._clock)
        return self._smtp

    def stop_smtp(self) -> None:
        """Stop the SMTP server if one was started."""
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None

    def write_postman_environment(
        self, path: str | Path, base_url: str | None = None, extra: dict[str, str] | None = None
    ) -> Path:
        """A Postman environment for this scenario; ``base_url`` (a loopback server) replaces
        both Microsoft bases, otherwise the real host names are written (in-process routing)."""
        return write_postman_environment(
            path,
            name=f"o365check sandbox: {self.scenario.name}",
            login_base=base_url or self.login_base,
            graph_base=base_url or self.graph_base,
            credentials=self.credentials,
            extra=extra,
        )
