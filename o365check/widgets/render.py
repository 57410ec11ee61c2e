"""HTML fragments the panels put into ``HTML.value``: escaped, masked, no widget code.

Every panel writes what the learner sees through these helpers, so escaping and masking happen in
one place: text from outside (service messages, typed values) is HTML-escaped, and the caller's
``Redactor`` masks any secret before it reaches a widget value (widget values can end up saved in
a notebook's widget state).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from o365check.diagnosis import Diagnosis
from o365check.doctor import StepResult
from o365check.redact import Redactor

__all__ = ["badge", "diagnosis_html", "kv_table", "message", "pre", "steps_table"]

_BADGES = {
    "passed": ("✔", "#1a7f37"),
    "ok": ("✔", "#1a7f37"),
    "failed": ("✘", "#cf222e"),
    "error": ("✘", "#cf222e"),
    "warning": ("⚠", "#9a6700"),
    "skipped": ("–", "#6e7781"),
    "info": ("ℹ", "#0969da"),
}


def _mask(text: str, redactor: Redactor | None) -> str:
    return redactor.text(text) if redactor is not None else text


def badge(status: str) -> str:
    """A coloured symbol plus the status word (the word keeps it readable without colour)."""
    symbol, colour = _BADGES.get(status, ("•", "#6e7781"))
    return f'<span style="color:{colour};font-weight:bold">{symbol} {escape(status)}</span>'


def message(status: str, text: str, redactor: Redactor | None = None) -> str:
    """One status line: badge and text, in a div whose class names the status (tests read it)."""
    return f'<div class="o365check-{escape(status)}">{badge(status)} {escape(_mask(text, redactor))}</div>'


def pre(text: str, redactor: Redactor | None = None) -> str:
    """Preformatted text (requests, commands), masked and escaped."""
    return f'<pre style="white-space:pre-wrap">{escape(_mask(text, redactor))}</pre>'


def kv_table(
    rows: Iterable[Sequence[str]],
    header: Sequence[str] = (),
    redactor: Redactor | None = None,
    raw_columns: Sequence[int] = (),
) -> str:
    """A small table; columns listed in ``raw_columns`` hold HTML made by this module (badges)."""
    head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = [cell if i in raw_columns else escape(_mask(str(cell), redactor)) for i, cell in enumerate(row)]
        body.append(
            "<tr>" + "".join(f"<td style='text-align:left;vertical-align:top'>{c}</td>" for c in cells) + "</tr>"
        )
    return f"<table>{'<tr>' + head + '</tr>' if head else ''}{''.join(body)}</table>"


def diagnosis_html(d: Diagnosis, redactor: Redactor | None = None) -> str:
    """Title, explanation, numbered fixes, reference and support details of a Diagnosis."""
    fixes = "".join(f"<li>{escape(_mask(fix, redactor))}</li>" for fix in d.fixes)
    details = kv_table(d.details, redactor=redactor) if d.details else ""
    code = f" <code>{escape(d.code)}</code>" if d.code else ""
    return (
        f'<div class="o365check-diagnosis"><b>{escape(_mask(d.title, redactor))}</b>{code}'
        f"<p>{escape(_mask(d.explanation, redactor))}</p><ol>{fixes}</ol>"
        f"<p>Reference: {escape(d.reference)}</p>{details}</div>"
    )


def steps_table(steps: Iterable[StepResult], redactor: Redactor | None = None) -> str:
    """The doctor's steps, one row each, then the diagnosis of the first failed step."""
    steps = list(steps)
    rows = [(badge(s.status), s.title, s.summary) for s in steps]
    html = kv_table(rows, ("", "Step", "Result"), redactor, raw_columns=(0,))
    failed = next((s for s in steps if s.status == "failed" and s.diagnosis is not None), None)
    if failed is not None and failed.diagnosis is not None:
        html += diagnosis_html(failed.diagnosis, redactor)
    return html
