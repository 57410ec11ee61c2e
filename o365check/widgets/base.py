"""``Panel``: a view object that owns one ipywidgets box and displays as it."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from o365check.diagnosis import DiagnosisContext, diagnose
from o365check.settings import Settings

from . import render

__all__ = ["Panel", "context_of", "failure_html"]


class Panel:
    """Base of the panels: ``panel.widget`` is the box; the panel itself displays as that box."""

    widget: w.Box

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


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
