"""Where the checks go: a real Microsoft cloud (live) or the built-in sandbox tenant.

The sandbox is the default whenever no credentials are given. Either way the same URLs are used:
the sandbox is reached by routing the Microsoft host names to it inside our sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from .http import build_session
from .settings import Settings

__all__ = ["Target", "open_target"]


@dataclass
class Target:
    """Settings to use, the session to use them with, and the sandbox behind it (if any)."""

    settings: Settings
    session: requests.Session
    sandbox: Any = None  # o365check.sandbox.Sandbox when in sandbox mode

    @property
    def mode(self) -> str:
        return "sandbox" if self.sandbox is not None else "live"

    @property
    def label(self) -> str:
        return f"sandbox scenario {self.sandbox.scenario.name!r}" if self.sandbox is not None else f"live ({self.settings.cloud} cloud)"

    def close(self) -> None:
        self.session.close()


def open_target(settings: Settings, *, verify: bool | str = True, timeout: float | tuple[float, float] | None = None,
                recorder: Any = None) -> Target:
    """Sandbox when a scenario is named or no credentials are given; live otherwise.

    In sandbox mode the scenario's values (what its user "typed") fill whatever the user did not give.
    """
    if settings.sandbox or not settings.has_credentials:
        from .sandbox import Sandbox  # imported here: live runs do not need the emulator

        box = Sandbox(settings.sandbox or "ok")
        typed = Settings._build(dict(box.credentials), {k: f"sandbox scenario {box.scenario.name!r}" for k in box.credentials})
        merged = settings.merged_over(typed)
        return Target(merged, build_session(sandbox=box, timeout=timeout, recorder=recorder), box)
    return Target(settings, build_session(verify=verify, timeout=timeout, recorder=recorder))
