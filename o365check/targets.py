"""Where the checks go: a real Microsoft cloud (live), the built-in sandbox tenant, or a cassette (replay).

The sandbox is used when asked for, or when nothing at all was given (no option, no named file, no
variable): a source the user named is never replaced by the sandbox. Either way the same URLs are used:
the sandbox is reached by routing the Microsoft host names to it inside our sessions. A cassette
(``--replay``, or ``O365CHECK_CASSETTE`` so a notebook kernel replays by itself) is its own
target: nothing is routed anywhere, the cassette answers, and the non-secret settings it was
recorded with fill whatever the user did not give.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from .http import build_session
from .settings import Settings

__all__ = ["Target", "open_target"]

_RECORDED_FIELDS = ("tenant_id", "client_id", "sender", "recipient", "cloud")


@dataclass
class Target:
    """Settings to use, the session to use them with, the sandbox behind it (if any) and the cassette (if any)."""

    settings: Settings
    session: requests.Session
    sandbox: Any = None  # o365check.sandbox.Sandbox when in sandbox mode
    recorder: Any = None  # o365check.recording.CassetteRecorder when recording or replaying
    owns_recorder: bool = False  # opened here (from O365CHECK_CASSETTE): closed with the target

    @property
    def mode(self) -> str:
        if self.recorder is not None and self.recorder.replaying:
            return "replay"
        return "sandbox" if self.sandbox is not None else "live"

    @property
    def label(self) -> str:
        """What answered. A replay names what was recorded, so its report equals the recorded one."""
        if self.mode == "replay":
            return str(self.recorder.metadata.get("target") or f"replay of {self.recorder.path}")
        return (
            f"sandbox scenario {self.sandbox.scenario.name!r}"
            if self.sandbox is not None
            else f"live ({self.settings.cloud} cloud)"
        )

    def close(self) -> None:
        self.session.close()
        if self.owns_recorder:
            self.recorder.close()


def _recorded_settings(recorder: Any) -> Settings:
    """The non-secret settings a cassette was recorded with, plus its stand-in secret."""
    recorded = recorder.metadata
    values: dict[str, Any] = {
        k: v for k, v in dict(recorded.get("settings") or {}).items() if k in _RECORDED_FIELDS and v
    }
    if recorded.get("secret_stand_in"):
        values["client_secret"] = str(recorded["secret_stand_in"])
    # Where each value came from when it was recorded, so messages read the same as in the recorded run.
    sources = dict(recorded.get("sources") or {})
    return Settings._build(values, {k: str(sources.get(k) or f"recorded in {recorder.path}") for k in values})


def _describe(recorder: Any, target: Target) -> None:
    from .recording import stand_in_secret

    settings = target.settings
    against = (
        f"the o365check sandbox, scenario {target.sandbox.scenario.name!r} (not a real tenant)"
        if target.sandbox is not None
        else f"a live tenant ({settings.cloud} cloud)"
    )
    metadata: dict[str, Any] = {
        "target": target.label,
        "recorded_against": against,
        "settings": {k: getattr(settings, k) for k in _RECORDED_FIELDS if getattr(settings, k)},
    }
    if settings.client_secret:
        metadata["secret_stand_in"] = stand_in_secret(settings.client_secret.reveal())
    metadata["sources"] = {
        k: settings.source_of(k) for k in (*_RECORDED_FIELDS, "client_secret") if k in settings.sources
    }
    if "cloud" not in settings.sources:  # the default cloud replays as the default, not as "recorded in"
        metadata["sources"]["cloud"] = "default"
    recorder.describe_recording(metadata)


def open_target(
    settings: Settings,
    *,
    verify: bool | str = True,
    timeout: float | tuple[float, float] | None = None,
    recorder: Any = None,
) -> Target:
    """Replay when a cassette answers; else sandbox when a scenario is named or nothing was given; live otherwise.

    In sandbox mode the scenario's values (what its user "typed") fill whatever the user did not give.
    """
    owns = False
    if recorder is None and settings.cassette:
        from .recording import open_cassette

        recorder, owns = open_cassette(settings.cassette, mode=settings.record_mode or "none", settings=settings), True
    if recorder is not None and recorder.replaying:
        merged = settings.merged_over(_recorded_settings(recorder))
        return Target(merged, build_session(timeout=timeout, recorder=recorder), None, recorder, owns)
    # Only "nothing at all was given" falls back to the sandbox: a named file or option never does (issue 12).
    if settings.sandbox or not settings.user_gave_settings:
        from .sandbox import Sandbox  # imported here: live runs do not need the emulator

        box = Sandbox(settings.sandbox or "ok")
        typed = Settings._build(
            dict(box.credentials), dict.fromkeys(box.credentials, f"sandbox scenario {box.scenario.name!r}")
        )
        merged = settings.merged_over(typed)
        target = Target(merged, build_session(sandbox=box, timeout=timeout, recorder=recorder), box, recorder, owns)
    else:
        target = Target(
            settings, build_session(verify=verify, timeout=timeout, recorder=recorder), None, recorder, owns
        )
    if recorder is not None:
        _describe(recorder, target)
    return target
