"""HTML fragments for the notebook panels (``HTML.value``) and the support report: escaped, masked, no widget code.

Every panel writes what the learner sees through these helpers, so escaping and masking happen in
one place: text from outside (service messages, typed values) is HTML-escaped, and the caller's
``Redactor`` masks any secret before it reaches a widget value (widget values can end up saved in
a notebook's widget state).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from o365check.diagnosis import Diagnosis
from o365check.doctor import StepResult
from o365check.redact import Redactor

__all__ = ["badge", "diagnosis_html", "entry", "kv_table", "link", "linked", "message", "pre", "steps_table"]

_BADGES = {
    "passed": ("✔", "#1a7f37"),
    "ok": ("✔", "#1a7f37"),
    "failed": ("✘", "#cf222e"),
    "error": ("✘", "#cf222e"),
    "warning": ("⚠", "#9a6700"),
    "skipped": ("–", "#6e7781"),
    "info": ("ℹ", "#0969da"),
}


# An http(s) URL in running text; "<" and ">" end it, so "<tenant-id>" placeholders stay visible as text.
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)'\""


def _mask(text: str, redactor: Redactor | None) -> str:
    return redactor.text(text) if redactor is not None else text


def link(url: str, label: str | None = None) -> str:
    """A link that opens in a new tab (a notebook or the web page must not navigate away)."""
    return (
        f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer" '
        f'style="color:#0969da;text-decoration:underline">{escape(label or url)}</a>'
    )


def linked(text: str, redactor: Redactor | None = None) -> str:
    """``text`` masked and escaped, with every http(s) URL in it made a link."""
    text = _mask(text, redactor)
    parts, pos = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        parts += [escape(text[pos : match.start()]), link(url)]
        pos = match.start() + len(url)
    parts.append(escape(text[pos:]))
    return "".join(parts)


def badge(status: str) -> str:
    """A coloured symbol plus the status word (the word keeps it readable without colour)."""
    symbol, colour = _BADGES.get(status, ("•", "#6e7781"))
    return f'<span style="color:{colour};font-weight:bold;white-space:nowrap">{symbol} {escape(status)}</span>'


def message(status: str, text: str, redactor: Redactor | None = None) -> str:
    """One status line: badge and text, in a div whose class names the status (tests read it)."""
    return f'<div class="o365check-{escape(status)}">{badge(status)} {linked(text, redactor)}</div>'


def entry(title: str, body: str, when: datetime | None = None) -> str:
    """One item of a panel's history: the time and what was done, then its result (HTML made here)."""
    stamp = (when or datetime.now()).strftime("%H:%M:%S")
    return (
        '<div class="o365check-entry" style="border-left:3px solid #d0d7de;padding:2px 0 2px 10px;margin:8px 0">'
        f'<div style="color:#57606a;font-size:90%">{stamp} · {escape(title)}</div>{body}</div>'
    )


def pre(text: str, redactor: Redactor | None = None) -> str:
    """Preformatted text (requests, commands, JSON), masked and escaped; long lines wrap between words, never inside one."""
    return f'<pre style="white-space:pre-wrap;word-break:normal;overflow-wrap:normal;overflow-x:auto;line-height:1.4">{escape(_mask(text, redactor))}</pre>'


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
        cells = [cell if i in raw_columns else linked(str(cell), redactor) for i, cell in enumerate(row)]
        body.append(
            "<tr>" + "".join(f"<td style='text-align:left;vertical-align:top'>{c}</td>" for c in cells) + "</tr>"
        )
    return f"<table>{'<tr>' + head + '</tr>' if head else ''}{''.join(body)}</table>"


def diagnosis_html(d: Diagnosis, redactor: Redactor | None = None) -> str:
    """Title, explanation, numbered fixes, reference and support details of a Diagnosis."""
    fixes = "".join(f"<li>{linked(fix, redactor)}</li>" for fix in d.fixes)
    details = kv_table(d.details, ("Support detail", "Value"), redactor=redactor) if d.details else ""
    code = f" <code>{escape(d.code)}</code>" if d.code else ""
    return (
        f'<div class="o365check-diagnosis"><b>{linked(d.title, redactor)}</b>{code}'
        f"<p>{linked(d.explanation, redactor)}</p><ol>{fixes}</ol>"
        f"<p>Reference: {linked(d.reference)}</p>{details}</div>"
    )


def steps_table(steps: Iterable[StepResult], redactor: Redactor | None = None) -> str:
    """The doctor's steps, one row each, then the diagnosis of every failed step (with its IDs)."""
    steps = list(steps)
    rows = [(s.title, badge(s.status), s.summary) for s in steps]
    html = kv_table(rows, ("Step", "Status", "Result"), redactor, raw_columns=(1,))
    for step in steps:
        if step.status == "failed" and step.diagnosis is not None:
            html += f"<p><b>Why step {escape(repr(step.title))} failed</b></p>" + diagnosis_html(
                step.diagnosis, redactor
            )
            known = dict(step.diagnosis.details)
            extra = [(k, v) for k, v in step.details if k not in known]  # e.g. each claim's value
            if extra:
                html += kv_table(extra, ("Checked", "Value"), redactor)
    return html
