"""``DoctorPanel`` runs the whole check in the current mode; ``ScenarioTour`` runs it against every
sandbox scenario side by side, so a learner sees each set-up mistake, where it shows and its fix."""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as w

from o365check.doctor import DoctorReport, build_report, run_doctor
from o365check.errors import O365CheckError
from o365check.sandbox import SCENARIOS
from o365check.settings import Settings
from o365check.smtp_doctor import open_smtp_channel, run_smtp_doctor
from o365check.targets import open_target

from . import render
from .base import Panel, failure_html
from .state import Walkthrough

__all__ = ["DoctorPanel", "ScenarioTour", "check_scenario", "report_html"]


def _no_sleep(_seconds: float) -> None:
    """Notebooks do not wait out Retry-After; the step reports the wait instead."""


def check_scenario(name: str, *, max_wait: float = 0.0, via: str = "") -> DoctorReport:
    """The doctor's report for sandbox scenario ``name`` (fresh tenant, the scenario's typed values).

    ``via`` is "graph", "smtp" or "both"; by default the path the scenario is about (an ``smtp-*``
    scenario is checked over SMTP AUTH, the others through Graph sendMail).
    """
    target = open_target(Settings(sandbox=name))
    via = via or SCENARIOS[name].via
    try:
        if via == "graph":
            steps = list(
                run_doctor(target.settings, target.session, sandbox=target.sandbox, max_wait=max_wait, sleep=_no_sleep)
            )
        else:
            channel = open_smtp_channel(target)
            try:
                steps = list(
                    run_smtp_doctor(
                        target.settings,
                        target.session,
                        channel,
                        via=via,
                        sandbox=target.sandbox,
                        max_wait=max_wait,
                        sleep=_no_sleep,
                    )
                )
            finally:
                channel.close(target)
        return build_report(target.settings, steps, target.label)
    finally:
        target.close()


class DoctorPanel(Panel):
    """One button: run every step against the walkthrough's target and show each result."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.run_button = w.Button(
            description="Run the whole check", button_style="primary", layout=w.Layout(width="auto")
        )
        self.result = w.HTML()
        self.widget = w.VBox([self.run_button, self.result])
        self.run_button.on_click(lambda _b: self.run())
        walkthrough.on_change(lambda: setattr(self.result, "value", ""))
        self.report: DoctorReport | None = None

    def run(self) -> DoctorReport | None:
        """Run the doctor; the table shows every step, then the diagnosis of the first failure."""
        self.walkthrough.close()  # a fresh target: the check starts from a clean sandbox/cassette
        try:
            target = self.walkthrough.target()
            steps = list(
                run_doctor(target.settings, target.session, sandbox=target.sandbox, max_wait=0.0, sleep=_no_sleep)
            )
        except O365CheckError as exc:
            self.result.value = failure_html(exc, self.walkthrough.current_settings(), self.walkthrough.redactor())
            return None
        self.report = build_report(target.settings, steps, target.label)
        verdict = (
            ("ok", "Every step passed.")
            if self.report.ok
            else ("failed", f"Step {self.report.failed_step.title!r} failed.")
        )  # type: ignore[union-attr]
        html = render.message(*verdict) + render.steps_table(steps, self.walkthrough.redactor())
        for advice in self.report.advice:
            html += render.diagnosis_html(advice, self.walkthrough.redactor())
        self.result.value = f"<b>{target.label}</b>" + html
        return self.report


class ScenarioTour(Panel):
    """A scenario picker with its summary and a check button, plus a table of all scenarios."""

    def __init__(self) -> None:
        self.scenario = w.Dropdown(options=list(SCENARIOS), description="Scenario")
        self.summary = w.HTML()
        self.check_button = w.Button(
            description="Check this scenario", button_style="primary", layout=w.Layout(width="auto")
        )
        self.all_button = w.Button(description="Check every scenario", layout=w.Layout(width="auto"))
        self.result = w.HTML()
        self.widget = w.VBox([w.HBox([self.scenario, self.check_button, self.all_button]), self.summary, self.result])
        self.scenario.observe(self._show_summary, names="value")
        self.check_button.on_click(lambda _b: self.check())
        self.all_button.on_click(lambda _b: self.check_all())
        self._show_summary()

    def _show_summary(self, _change: Any = None) -> None:
        self.summary.value = render.message("info", SCENARIOS[self.scenario.value].summary)

    def check(self, name: str | None = None) -> DoctorReport:
        """Run the check against one scenario and show its steps and diagnosis."""
        if name is not None:
            self.scenario.value = name
        report = check_scenario(self.scenario.value)
        self.result.value = render.steps_table(report.steps)
        return report

    def check_all(self) -> dict[str, DoctorReport]:
        """One row per scenario: the step that failed first, its code and the diagnosis title."""
        reports = {name: check_scenario(name) for name in SCENARIOS}
        rows = []
        for name, report in reports.items():
            failed = report.failed_step
            if failed is None:
                rows.append((render.badge("passed"), name, "", "", "Everything passed"))
            else:
                title = failed.diagnosis.title if failed.diagnosis is not None else failed.summary
                rows.append((render.badge("failed"), name, failed.name, failed.error_code, title))
        self.result.value = render.kv_table(rows, ("", "Scenario", "Fails at", "Code", "Diagnosis"), raw_columns=(0,))
        return reports


def report_html(report: DoctorReport, redactor: Any = None) -> Any:
    """The report as a static ``IPython.display.HTML`` (it survives nbconvert; widgets need a kernel)."""
    from IPython.display import HTML

    verdict = (
        render.message("ok", "Every step passed.")
        if report.ok
        else render.message("failed", f"Exit code {report.exit_code}: step {report.failed_step.title!r} failed.")
    )  # type: ignore[union-attr]
    settings = render.kv_table(report.settings.items(), ("Setting", "Value"), redactor)
    advice = "".join(render.diagnosis_html(a, redactor) for a in report.advice)
    return HTML(
        f"<h3>o365check: {escape(report.target)}</h3>{verdict}{settings}"
        f"{render.steps_table(report.steps, redactor)}{advice}"
    )
