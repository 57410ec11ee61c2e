"""``Walkthrough``: what the panels of one notebook share, kept in Python (never in a widget).

The mode (sandbox with a scenario, your tenant, or a cassette), the values the learner typed, the
open target (so the token and the send talk to the same sandbox and its outbox) and the last
token. The token and the secret live here as ``Secret``s: widget values can be saved with a
notebook, Python objects cannot.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from o365check.auth import AppToken
from o365check.errors import UsageError
from o365check.redact import Redactor
from o365check.settings import Settings
from o365check.targets import Target, open_target

__all__ = ["MODES", "Mode", "Walkthrough"]

Mode = Literal["sandbox", "tenant", "cassette"]
MODES: dict[str, str] = {
    "sandbox": "Sandbox tenant (built in, no credentials needed)",
    "tenant": "My tenant (live Microsoft cloud)",
    "cassette": "A recorded cassette (replay, no network)",
}
_ENDPOINT_FIELDS = (
    "tenant_id",
    "client_id",
    "client_secret",
    "certificate_path",
    "certificate_password",
    "sender",
    "recipient",
)


class Walkthrough:
    """Shared state of one notebook's panels.

    ``base`` is what the environment gave (``Settings.from_env()`` by default): with
    ``O365CHECK_CASSETTE`` set the walkthrough starts in cassette mode, with credentials in your
    tenant, otherwise in the sandbox.
    """

    def __init__(self, base: Settings | None = None):
        self.base = base if base is not None else Settings.from_env()
        if self.base.cassette:
            self.mode: Mode = "cassette"
        elif self.base.has_credentials and not self.base.sandbox:
            self.mode = "tenant"
        else:
            self.mode = "sandbox"
        self.scenario = self.base.sandbox or "ok"
        self.cassette = self.base.cassette
        self.typed = Settings()  # what the credentials panel was given
        self.token: AppToken | None = None
        self._target: Target | None = None
        self._listeners: list[Any] = []

    def __repr__(self) -> str:  # the settings' own repr masks the secret; the token is never shown
        return f"Walkthrough(mode={self.mode!r}, scenario={self.scenario!r}, token={'yes' if self.token else 'no'})"

    # ---------------------------------------------------------------- changes
    def on_change(self, callback: Any) -> None:
        """Call ``callback()`` whenever mode or settings change (panels refresh their views)."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        self.close()
        for callback in list(self._listeners):
            callback()

    def set_mode(self, mode: str, *, scenario: str | None = None, cassette: str | None = None) -> None:
        """Switch target; a new target starts with no token (it belonged to the old one)."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of: {', '.join(MODES)}")
        self.mode = mode  # type: ignore[assignment]
        if scenario is not None:
            self.scenario = scenario
        if cassette is not None:
            self.cassette = cassette
        self._changed()

    def set_typed(self, typed: Settings) -> None:
        """The credentials panel's values (the secret as a ``Secret``)."""
        self.typed = typed
        self._changed()

    # ---------------------------------------------------------------- what to use
    def settings(self) -> Settings:
        """The settings for the current mode: typed values over the environment's."""
        if self.mode == "sandbox":
            # Only the cloud and what was typed count: open_target fills the rest from the scenario.
            base = Settings(cloud=self.base.cloud, sources=self.base.sources)
            return replace(self.typed.merged_over(base), sandbox=self.scenario, cassette="", record_mode="")
        merged = replace(self.typed.merged_over(self.base), sandbox=None)
        if self.mode == "cassette":
            return replace(merged, cassette=self.cassette, record_mode="none")
        return replace(merged, cassette="", record_mode="")

    def target(self) -> Target:
        """The open target, opened on first use and kept until the mode or the settings change."""
        if self._target is None:
            settings = self.settings()
            if self.mode == "tenant" and not settings.has_credentials:
                # open_target would quietly fall back to the sandbox: say what is missing instead.
                raise UsageError(
                    "your tenant mode needs the Tenant ID, Client ID and client secret: "
                    "type them in the credentials panel or set AZURE_TENANT_ID, AZURE_CLIENT_ID "
                    "and AZURE_CLIENT_SECRET before starting JupyterLab"
                )
            self._target = open_target(settings)
        return self._target

    @property
    def opened(self) -> Target | None:
        """The target if one is open (None before the first request or after a change)."""
        return self._target

    @property
    def target_settings(self) -> Settings:
        """Settings as the target uses them (in the sandbox: typed values over the scenario's)."""
        return self.target().settings

    def current_settings(self) -> Settings:
        """The open target's settings, or (before one is opened) the mode's settings."""
        return self._target.settings if self._target is not None else self.settings()

    def redactor(self) -> Redactor:
        """Masks the secret(s) of the current settings and the last token."""
        redactor = self.current_settings().redactor()
        if self.token is not None:
            redactor.add(self.token.access_token.reveal())
        return redactor

    def close(self) -> None:
        """Forget the token and close the target (a new one opens on next use)."""
        self.token = None
        if self._target is not None:
            self._target.close()
            self._target = None
