"""Where requests go: a real Microsoft cloud (live), the built-in sandbox tenant, a cassette (replay),
or any of the first two while recording. Decided here, once, for every command.

:func:`choose_cassette` turns ``--record`` / ``--replay`` / ``O365CHECK_CASSETTE`` (+
``O365CHECK_RECORD_MODE``) into a recorder; :func:`open_transport` builds the one session
(egress rule, cassette, sandbox, network) and says which mode it is in. :func:`open_target` is
the settings-driven front door (doctor, token, send, widgets, notebooks): the sandbox is the
default only when nothing at all was given (a source the user named is never replaced by it). ``o365check run`` uses :func:`open_transport`
directly: there the collection names the hosts, so live is the default.

Either way the same URLs are used: the sandbox is reached by routing the Microsoft host names to it
inside our sessions. A cassette is its own target: nothing is routed anywhere, the cassette
answers, and what it was recorded with (non-secret settings, a run's environment, secrets
replaced by stand-ins) fills whatever the user did not give. Every cassette carries the same
metadata block (:func:`describe_recording`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ..errors import UsageError
from ..settings import Settings
from .egress import Egress
from .session import build_session

__all__ = ["Target", "choose_cassette", "describe_recording", "open_target", "open_transport"]

_RECORDED_FIELDS = ("tenant_id", "client_id", "sender", "recipient", "cloud")


@dataclass
class Target:
    """Settings to use, the session to use them with, the sandbox behind it (if any) and the cassette (if any)."""

    settings: Settings
    session: requests.Session
    sandbox: Any = None  # o365check.sandbox.Sandbox when in sandbox mode
    recorder: Any = None  # o365check.recording.CassetteRecorder when recording or replaying
    owns_recorder: bool = False  # opened here (from options or O365CHECK_CASSETTE): closed with the target
    egress: Egress = field(default_factory=Egress)

    @property
    def mode(self) -> str:
        """``replay``, ``sandbox`` or ``live`` (recording is a cassette over sandbox or live)."""
        if self.recorder is not None and self.recorder.replaying:
            return "replay"
        return "sandbox" if self.sandbox is not None else "live"

    @property
    def recording(self) -> bool:
        return self.recorder is not None and not self.recorder.replaying

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
            self.owns_recorder = False


def choose_cassette(record: str | None = None, replay: str | None = None, settings: Settings | None = None) -> Any:
    """The recorder for ``--record`` (file written afresh), ``--replay`` (network blocked) or
    ``O365CHECK_CASSETTE`` (mode ``O365CHECK_RECORD_MODE``, default ``none``); None for none of them."""
    if record and replay:
        raise UsageError("--record and --replay cannot be used together")
    settings = settings if settings is not None else Settings.from_env()
    path = record or replay or settings.cassette
    if not path:
        return None
    from ..recording import open_cassette

    # --record starts the file afresh (vcrpy's "all" would keep stale interactions of an older recording).
    mode = "rewrite" if record else ("none" if replay else (settings.record_mode or "none"))
    return open_cassette(path, mode=mode, settings=settings)


def open_transport(
    *,
    sandbox: Any = None,
    recorder: Any = None,
    verify: bool | str = True,
    timeout: float | tuple[float, float] | None = None,
    allow_secret_to: Iterable[str] = (),
    secrets: Mapping[str, object] | None = None,
) -> tuple[requests.Session, Any, Egress]:
    """The one session: ``(session, sandbox or None, egress)``.

    A replaying recorder wins (nothing is routed, no socket is opened); else ``sandbox`` (a
    scenario name or a ``Sandbox``) serves the Microsoft hosts in-process; else the network. ``secrets`` are
    registered on the egress rule before anything is sent.
    """
    egress = Egress(allow_secret_to, replaying=recorder is not None and recorder.replaying)
    egress.register_all(secrets or {})
    box = None
    if sandbox and not (recorder is not None and recorder.replaying):
        box = sandbox if not isinstance(sandbox, str) else _sandbox_named(sandbox)
    session = build_session(
        sandbox=box, verify=verify if box is None else True, timeout=timeout, recorder=recorder, egress=egress
    )
    return session, box, egress


def _sandbox_named(scenario: str) -> Any:
    from ..sandbox import SCENARIOS, Sandbox  # imported here: live runs do not need the emulator

    if scenario not in SCENARIOS:
        raise UsageError(f"--sandbox {scenario!r} is not a scenario; use one of: {', '.join(SCENARIOS)}")
    return Sandbox(scenario)


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


def describe_recording(
    recorder: Any,
    *,
    target: str,
    against: str,
    settings: Settings | None = None,
    collection: str = "",
    environment: Mapping[str, Any] | None = None,
) -> None:
    """Write the one metadata shape every cassette carries (doctor, token, send and run alike).

    ``settings``: non-secret values, where they came from, and a stand-in for the client secret;
    ``environment``: a run's environment with secrets already replaced by stand-ins.
    """
    from ..recording import stand_in_secret

    metadata: dict[str, Any] = {
        "target": target,
        "recorded_against": against,
        "settings": {},
        "sources": {},
        "collection": collection,
        "environment": dict(environment) if environment else {},
    }
    if settings is not None:
        metadata["settings"] = {k: getattr(settings, k) for k in _RECORDED_FIELDS if getattr(settings, k)}
        metadata["sources"] = {
            k: settings.source_of(k) for k in (*_RECORDED_FIELDS, "client_secret") if k in settings.sources
        }
        if "cloud" not in settings.sources:  # the default cloud replays as the default, not as "recorded in"
            metadata["sources"]["cloud"] = "default"
        if settings.client_secret:
            metadata["secret_stand_in"] = stand_in_secret(settings.client_secret.reveal())
    recorder.describe_recording(metadata)


def _settings_secrets(settings: Settings) -> dict[str, object]:
    """The secrets the doctor, token and send commands will use, by the name the user knows them by."""
    secrets: dict[str, object] = {}
    for name in ("client_secret", "certificate_password"):
        value = getattr(settings, name)
        if value:
            secrets[f"{name} (from {settings.source_of(name)})"] = value.reveal()
    return secrets


def open_target(
    settings: Settings,
    *,
    verify: bool | str = True,
    timeout: float | tuple[float, float] | None = None,
    recorder: Any = None,
    allow_secret_to: Iterable[str] = (),
) -> Target:
    """Replay when a cassette answers; else sandbox when a scenario is named or nothing was given; live otherwise.

    In sandbox mode the scenario's values (what its user "typed") fill whatever the user did not give.
    """
    owns = False
    if recorder is None and settings.cassette:
        recorder, owns = choose_cassette(settings=settings), True
    if recorder is not None and recorder.replaying:
        merged = settings.merged_over(_recorded_settings(recorder))
        session, _, egress = open_transport(
            recorder=recorder, timeout=timeout, secrets=_settings_secrets(merged), allow_secret_to=allow_secret_to
        )
        return Target(merged, session, None, recorder, owns, egress)
    # Only "nothing at all was given" falls back to the sandbox: a named file or option never does (issue 12).
    scenario = settings.sandbox or (None if settings.user_gave_settings else "ok")
    box = None
    if scenario:
        from ..sandbox import Sandbox

        box = Sandbox(scenario)
        typed = Settings._build(dict(box.credentials), dict.fromkeys(box.credentials, f"sandbox scenario {scenario!r}"))
        settings = settings.merged_over(typed)
    session, box, egress = open_transport(
        sandbox=box,
        recorder=recorder,
        verify=verify,
        timeout=timeout,
        secrets=_settings_secrets(settings),
        allow_secret_to=allow_secret_to,
    )
    target = Target(settings, session, box, recorder, owns, egress)
    if recorder is not None:
        against = (
            f"the o365check sandbox, scenario {box.scenario.name!r} (not a real tenant)"
            if box is not None
            else f"a live tenant ({settings.cloud} cloud)"
        )
        describe_recording(recorder, target=target.label, against=against, settings=settings)
    return target
