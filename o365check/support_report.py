"""The support report: the whole check run once, written as a finished, self-contained HTML page.

``o365check report`` and notebooks/10-support-check.ipynb (papermill) both call ``run_support_check``
and show ``SupportCheck.fragment()``, so the page is the same either way: a title naming the tenant,
the app and the time, the o365check version, what answered (the sandbox is said plainly), every step
with its result, every failed step's diagnosis with the IDs support asks for, links that open in a new
tab, and no code. Everything is masked with the settings' ``Redactor`` (the secret and the token).
No ipywidgets or IPython here: the command works without the notebooks extra.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

from . import __version__, rendering
from .doctor import DoctorReport, StepResult, build_report, run_doctor
from .errors import ServiceUnreachableError, UsageError
from .redact import Redactor
from .settings import Settings

__all__ = ["CheckFailed", "SupportCheck", "check_scenario_name", "document", "run_support_check"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1f2328;line-height:1.5}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top}
th{background:#f6f8fa}pre{background:#f6f8fa;padding:8px}a{color:#0969da}
.o365check-mode{padding:8px 12px;border-radius:6px;background:#ddf4ff;border:1px solid #54aeff;margin:1em 0}
.o365check-diagnosis{border-left:4px solid #cf222e;padding-left:12px;margin:1em 0}
""".strip()


class CheckFailed(Exception):
    """Raised by the support notebook's last cell so plain papermill exits non-zero when the check fails.

    IPython shows ``_render_traceback_`` instead of a traceback: one line, the report is above it.
    """

    def __init__(self, exit_code: int, message: str):
        super().__init__(message)
        self.exit_code = exit_code

    def _render_traceback_(self) -> list[str]:
        return [f"CheckFailed: {self}"]


def check_scenario_name(name: str | None) -> None:
    """A scenario name that does not exist is a usage mistake: say which ones do (exit code 2)."""
    if not name:
        return
    from .sandbox import SCENARIOS

    if name not in SCENARIOS:
        raise UsageError(
            f"{name!r} is not a sandbox scenario. Fix: use one of {', '.join(SCENARIOS)} "
            "(`o365check sandbox scenarios` describes them), or leave it empty for your tenant"
        )


@dataclass
class SupportCheck:
    """One finished check and everything its report says about it."""

    report: DoctorReport
    mode: str  # "sandbox", "live" or "replay" (Target.mode)
    where: str  # one sentence: what answered
    settings: Settings
    started: datetime
    finished: datetime
    version: str = __version__
    redactor: Redactor = field(default_factory=Redactor)

    @property
    def exit_code(self) -> int:
        return self.report.exit_code

    @property
    def title(self) -> str:
        who = ", ".join(
            part
            for part in (
                f"tenant {self.settings.tenant_id}" if self.settings.tenant_id else "",
                f"app {self.settings.client_id}" if self.settings.client_id else "",
            )
            if part
        )
        kind = "sandbox" if self.mode == "sandbox" else ("replay" if self.mode == "replay" else "live tenant")
        return self.redactor.text(
            f"o365check support report: {who or 'no app given'} ({kind}), {self.finished:%Y-%m-%d %H:%M} UTC"
        )

    def verdict(self) -> tuple[str, str]:
        if self.report.ok:
            return "ok", "Every step passed: the app can get a token and Graph accepted the test message."
        failed = self.report.failed_step
        name = failed.title if failed is not None else "a step"
        return (
            "failed",
            f"The check failed (exit code {self.exit_code}): step {name!r} failed. Why and how to fix it is below.",
        )

    def fragment(self) -> str:
        """The report's body: what a notebook output and the HTML page show."""
        r = self.redactor
        facts = [
            ("Result", f"{'passed' if self.report.ok else 'failed'} (exit code {self.exit_code})"),
            ("Checked against", self.report.target),
            ("Started", f"{self.started:%Y-%m-%d %H:%M:%S} UTC"),
            ("Finished", f"{self.finished:%Y-%m-%d %H:%M:%S} UTC"),
            ("o365check version", self.version),
        ]
        html = [
            f'<div class="o365check-report" data-exit-code="{self.exit_code}" data-title="{escape(self.title, quote=True)}">',
            f"<h1>{escape(self.title)}</h1>",
            f'<div class="o365check-mode">{escape(r.text(self.where))}</div>',
            rendering.message(*self.verdict(), r),
            rendering.kv_table(facts, redactor=r),
            "<h2>Steps</h2>",
            rendering.steps_table(self.report.steps, r),
        ]
        passed_details = [
            (s.title, f"{k}: {v}") for s in self.report.steps if s.status == "passed" for k, v in s.details if v
        ]
        if passed_details:
            html += ["<h2>What the passed steps found</h2>", rendering.kv_table(passed_details, ("Step", "Found"), r)]
        warnings = [w for s in self.report.steps for w in s.warnings]
        if warnings or self.report.advice:
            html.append("<h2>Warnings and advice</h2>")
            html += [rendering.diagnosis_html(d, r) for d in (*warnings, *self.report.advice)]
        html += [
            "<h2>Settings used</h2>",
            rendering.kv_table(self.report.settings.items(), ("Setting", "Value"), r),
            f"<p><small>Made by o365check {escape(self.version)}. The client secret and the token are never "
            "included: they are masked wherever they would appear.</small></p>",
            "</div>",
        ]
        return r.text("".join(html))

    def document(self) -> str:
        """A complete, self-contained HTML page (inline style, no script, no code)."""
        return document(self.fragment(), self.title)

    def fail_if_failed(self) -> None:
        """Raise ``CheckFailed`` when the check failed (the support notebook's last cell)."""
        if self.exit_code:
            raise CheckFailed(self.exit_code, self.verdict()[1])

    def _repr_html_(self) -> str:
        return self.fragment()

    def __repr__(self) -> str:
        return f"SupportCheck(target={self.report.target!r}, exit_code={self.exit_code})"


def document(fragment: str, title: str) -> str:
    """Wrap a report fragment in a page of its own."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="o365check {escape(__version__)}">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n<body>\n{fragment}\n</body></html>\n"
    )


def _where(target: Any) -> str:
    if target.mode == "sandbox":
        return (
            f"Sandbox: this check ran against o365check's built-in sandbox tenant, scenario "
            f"{target.sandbox.scenario.name!r} ({target.sandbox.scenario.summary.rstrip('.')}). "
            "It is an emulator, not a real Microsoft tenant: nothing was sent to Microsoft."
        )
    if target.mode == "replay":
        recorded = target.recorder.metadata.get("recorded_against") or "an unknown target"
        return f"Replay: the answers come from the cassette {target.recorder.path}, recorded against {recorded}; no network was used."
    return f"Live tenant: this check ran against the real Microsoft {target.settings.cloud} cloud."


def _step_raised(exc: Exception, redactor: Redactor) -> StepResult:
    """A step that raised something unexpected still ends as a failed row, masked, never a lost report."""
    code = 3 if isinstance(exc, ServiceUnreachableError) else 1
    return StepResult("unexpected-error", "failed", redactor.text(f"{type(exc).__name__}: {exc}"), exit_code=code)


def run_support_check(
    settings: Settings,
    *,
    postman: bool = True,
    max_wait: float = 0.0,
    recorder: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SupportCheck:
    """Run the doctor once against ``settings``' target and keep what the report needs."""
    from .targets import open_target

    check_scenario_name(settings.sandbox)
    started = datetime.now(UTC)
    target = open_target(settings, recorder=recorder)
    redactor = target.settings.redactor()
    steps: list[StepResult] = []
    try:
        # A recorded run reports only what its replay can: the sandbox outbox is not an HTTP exchange.
        sandbox = target.sandbox if target.recorder is None else None
        for step in run_doctor(
            target.settings, target.session, sandbox=sandbox, postman=postman, max_wait=max_wait, sleep=sleep
        ):
            steps.append(step)
    except Exception as exc:
        steps.append(_step_raised(exc, redactor))
    finally:
        where = _where(target)
        target.close()
    return SupportCheck(
        report=build_report(target.settings, steps, target.label),
        mode=target.mode,
        where=where,
        settings=target.settings,
        started=started,
        finished=datetime.now(UTC),
        redactor=redactor,
    )
