"""``ModeSelector``: where the walkthrough's requests go (sandbox scenario, your tenant, a cassette)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from o365check.sandbox import SCENARIOS

from . import render
from .base import Panel
from .state import MODES, Walkthrough

__all__ = ["ModeSelector"]


class ModeSelector(Panel):
    """Mode buttons, a scenario picker (sandbox) and a cassette path (replay); the line below says
    what the current choice means."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.mode = w.ToggleButtons(
            options=[(label.split(" (")[0], key) for key, label in MODES.items()],
            value=walkthrough.mode,
            description="Mode",
        )
        self.scenario = w.Dropdown(options=list(SCENARIOS), value=walkthrough.scenario, description="Scenario")
        self.cassette = w.Text(
            value=walkthrough.cassette, description="Cassette", placeholder="../collections/cassettes/doctor-ok.yaml"
        )
        self.status = w.HTML()
        self.widget = w.VBox([self.mode, self.scenario, self.cassette, self.status])
        self._syncing = False
        self.mode.observe(self._apply, names="value")
        self.scenario.observe(self._apply, names="value")
        self.cassette.observe(self._apply, names="value")
        walkthrough.on_change(self._show)  # a mode set from code shows here too: one state, one view
        self._show()

    def _apply(self, _change: Any = None) -> None:
        if self._syncing:
            return
        self.walkthrough.set_mode(self.mode.value, scenario=self.scenario.value, cassette=self.cassette.value.strip())

    def _show(self) -> None:
        """Make the widgets show the walkthrough's mode, scenario and cassette, then explain them."""
        self._syncing = True
        try:
            self.mode.value = self.walkthrough.mode
            self.scenario.value = self.walkthrough.scenario
            self.cassette.value = self.walkthrough.cassette or ""
        finally:
            self._syncing = False
        mode = self.walkthrough.mode
        self.scenario.layout.display = "" if mode == "sandbox" else "none"
        self.cassette.layout.display = "" if mode == "cassette" else "none"
        if mode == "sandbox":
            scenario = SCENARIOS[self.walkthrough.scenario]
            self.status.value = render.message(
                "info",
                f"Sandbox scenario {scenario.name!r}: {scenario.summary} "
                "Empty credential fields take the scenario's values.",
            )
        elif mode == "tenant":
            self.status.value = render.message(
                "info",
                "Live: requests go to your tenant's Microsoft cloud "
                "with the values you type (or AZURE_* environment variables).",
            )
        elif not self.walkthrough.cassette:
            self.status.value = render.message(
                "error",
                "Cassette: no path given. Fix: type the path of a cassette, e.g. collections/cassettes/doctor-ok.yaml.",
            )
        elif not Path(self.walkthrough.cassette).is_file():
            self.status.value = render.message(
                "error",
                f"Cassette: {self.walkthrough.cassette!r} does not exist. "
                "Fix: give the path of a recorded cassette (see collections/cassettes/).",
            )
        else:
            self.status.value = render.message(
                "info",
                f"Replaying {self.walkthrough.cassette}: no network; a "
                "request that is not in the cassette fails and says what differed.",
            )
