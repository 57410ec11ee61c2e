"""pytest fixtures for testing your own mail-sending app against the sandbox tenant.

Installed with o365check (entry point ``pytest11``), so the fixtures are there in any test suite:

``o365_sandbox``
    A fresh in-process ``Sandbox`` per test. Every ``requests.Session`` created during the test
    (yours, MSAL's, python-o365's) has the Microsoft hosts routed to it: no socket, no TLS, the real
    URLs. For ``requests``-based code.
``o365_sandbox_server``
    One loopback HTTPS server for the whole session (``.base_url``, ``.ca_path``,
    ``.certificate_path`` of a registered client key pair, ``.environment``), for any other client
    (httpx/msgraph-sdk, Node, curl, a subprocess).
``o365_served_sandbox``
    That server, reset to the test's scenario with an empty outbox, and its environment
    (``AZURE_*``, CA bundle variables, ``O365CHECK_SANDBOX_URL``) set for the test.
``o365_sandbox_scenario``
    The scenario name, ``"ok"`` unless parametrized: ``@pytest.mark.o365_sandbox_scenarios("ok",
    "throttled")`` (no names: every scenario) or ``@pytest.mark.parametrize("o365_sandbox_scenario", [...])``.
``o365_outbox``
    Assertions over what the sandbox the test uses accepted: ``.messages``,
    ``.assert_sent(to=..., subject=..., count=1)``, ``.assert_nothing_sent()``.

Each scenario says what Microsoft would answer (``box.scenario.http_status``, ``.error_code``).
The plugin imports nothing until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .box import Sandbox
    from .server import SandboxServer

__all__ = ["SandboxService", "Outbox"]

SCENARIOS_MARKER = "o365_sandbox_scenarios"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SCENARIOS_MARKER}(*names): run the test once per sandbox scenario (all of them if no names are given)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(SCENARIOS_MARKER)
    if marker is None or "o365_sandbox_scenario" not in metafunc.fixturenames:
        return
    from .scenarios import SCENARIOS

    names = list(marker.args) or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise pytest.UsageError(f"{SCENARIOS_MARKER}: unknown scenario(s) {unknown}; use some of {list(SCENARIOS)}")
    metafunc.parametrize("o365_sandbox_scenario", names)


@dataclass
class SandboxService:
    """A served sandbox: the ``Sandbox`` (``.box``), its server and what a client needs."""

    box: Sandbox
    server: SandboxServer
    certificate_path: str
    environment: list[tuple[str, str]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def ca_path(self) -> str:
        assert self.server.ca_path is not None
        return self.server.ca_path

    @property
    def credentials(self) -> dict[str, str]:
        return self.box.credentials

    @property
    def outbox(self) -> list[dict[str, Any]]:
        return self.box.outbox


class Outbox:
    """What a sandbox accepted, with assertions that say what was there instead."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.box.outbox_snapshot()

    def matching(self, *, to: str | None = None, subject: str | None = None, sender: str | None = None) -> list:
        def fits(message: dict[str, Any]) -> bool:
            recipients = [a.lower() for a in message["to"] + message["cc"] + message["bcc"]]
            return (
                (to is None or to.lower() in recipients)
                and (subject is None or message["subject"] == subject)
                and (sender is None or message["sender"].lower() == sender.lower())
            )

        return [m for m in self.messages if fits(m)]

    def assert_sent(
        self, *, to: str | None = None, subject: str | None = None, sender: str | None = None, count: int = 1
    ) -> list[dict[str, Any]]:
        found = self.matching(to=to, subject=subject, sender=sender)
        if len(found) != count:
            summary = [(m["sender"], m["to"], m["subject"]) for m in self.messages]
            raise AssertionError(
                f"expected {count} message(s) with to={to!r} subject={subject!r} sender={sender!r} in the "
                f"sandbox outbox, found {len(found)}; the outbox holds {summary}"
            )
        return found

    def assert_nothing_sent(self) -> None:
        if self.messages:
            summary = [(m["sender"], m["to"], m["subject"]) for m in self.messages]
            raise AssertionError(f"expected an empty sandbox outbox, it holds {summary}")


@pytest.fixture
def o365_sandbox_scenario() -> str:
    """The sandbox scenario of this test (parametrize it to change it)."""
    return "ok"


@pytest.fixture
def o365_sandbox(o365_sandbox_scenario: str, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A fresh in-process sandbox; every requests.Session made during the test is routed to it."""
    import requests

    from .box import Sandbox

    box = Sandbox(o365_sandbox_scenario)
    original_init = requests.Session.__init__

    def routed_init(session: requests.Session, *args: Any, **kwargs: Any) -> None:
        original_init(session, *args, **kwargs)
        box.mount(session)

    monkeypatch.setattr(requests.Session, "__init__", routed_init)
    return box


@pytest.fixture(scope="session")
def o365_sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxService]:
    """One HTTPS sandbox on 127.0.0.1 for the whole test session, with a registered client certificate."""
    from .box import Sandbox
    from .certificates import new_client_certificate, write_client_certificate

    box = Sandbox("ok")
    key_pem, certificate_pem = new_client_certificate()
    certificate_path = write_client_certificate(
        tmp_path_factory.mktemp("o365-sandbox") / "client.pem", key_pem, certificate_pem
    )
    box.add_certificate(certificate_pem)
    server = box.serve(tls=True)
    try:
        yield SandboxService(box, server, str(certificate_path))
    finally:
        server.stop()


@pytest.fixture
def o365_served_sandbox(
    o365_sandbox_server: SandboxService, o365_sandbox_scenario: str, monkeypatch: pytest.MonkeyPatch
) -> SandboxService:
    """The session's server reset to this test's scenario, its client environment set for the test."""
    from .client_env import client_environment

    service = o365_sandbox_server
    service.box.reset(o365_sandbox_scenario)
    service.environment = client_environment(
        base_url=service.base_url,
        scenario=o365_sandbox_scenario,
        credentials=service.box.credentials,
        ca_path=service.server.ca_path,
        ca_bundle_path=service.server.ca_bundle_path,
        certificate_path=service.certificate_path,
    )
    for name, value in service.environment:
        monkeypatch.setenv(name, value)
    return service


@pytest.fixture
def o365_outbox(request: pytest.FixtureRequest) -> Outbox:
    """The outbox of the sandbox this test uses (served if it asked for ``o365_served_sandbox``)."""
    if "o365_served_sandbox" in request.fixturenames:
        return Outbox(request.getfixturevalue("o365_served_sandbox").box)
    return Outbox(request.getfixturevalue("o365_sandbox"))
