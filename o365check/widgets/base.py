"""``Panel``: a view object that owns one ipywidgets box and displays as it; ``History``: what a panel
did, newest first; ``Outcome``: one action's value plus its entry, shown under the cell that ran it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from o365check.diagnosis import DiagnosisContext, diagnose
from o365check.settings import Settings

from . import render

__all__ = ["History", "Outcome", "Panel", "context_of", "failure_html"]


class Panel:
    """Base of the panels: ``panel.widget`` is the box; the panel itself displays as that box."""

    widget: w.Box

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


@dataclass
class Outcome:
    """What one action returned (``value``: a token, a send result, a report...) and the history entry it
    added. A cell that runs an action shows that entry below the cell, not just the value's repr."""

    value: Any
    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"Outcome({self.value!r})"


class History:
    """A panel's results, newest first; nothing is replaced (a learner compares runs)."""

    LIMIT = 30  # older entries drop off: a long session must not grow the page without bound

    def __init__(self) -> None:
        self.entries: list[str] = []
        self.widget = w.HTML()

    @property
    def latest(self) -> str:
        return self.entries[0] if self.entries else ""

    def add(self, title: str, body: str) -> Outcome:
        """Put an entry on top; returns an ``Outcome`` (without value) holding it."""
        self.entries.insert(0, render.entry(title, body))
        del self.entries[self.LIMIT :]
        self.widget.value = "".join(self.entries)
        return Outcome(None, self.entries[0])

    def record(self, title: str, body: str, value: Any) -> Outcome:
        """``add`` and keep ``value`` in the outcome."""
        outcome = self.add(title, body)
        outcome.value = value
        return outcome

    def clear(self) -> None:
        self.entries.clear()
        self.widget.value = ""


def context_of(settings: Settings) -> DiagnosisContext:
    """The user's values that diagnoses fill into commands and links."""
    return DiagnosisContext(
        tenant=settings.tenant_id, client_id=settings.client_id, sender=settings.sender, cloud=settings.cloud
    )


def failure_html(error: Exception, settings: Settings, redactor: Any) -> str:
    """What went wrong (our error's message) and the diagnosis: the same advice as the CLI."""
    return render.message("failed", str(error), redactor) + render.diagnosis_html(
        diagnose(error, context_of(settings)), redactor
    )
