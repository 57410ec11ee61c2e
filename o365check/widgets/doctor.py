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
from .base import History, Outcome, Panel, failure_html
from .state import Walkthrough

__all__ = ["DoctorPanel", "ScenarioTour", "check_scenario", "report_body", "report_html", "scenarios_html"]


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
    """One button: run every step against the walkthrough's target; each run adds an entry on top."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.run_button = w.Button(
            description="Run the whole check", button_style="primary", layout=w.Layout(width="auto")
        )
        self.history = History()
        self.widget = w.VBox([w.HBox([self.run_button]), self.history.widget])
        self.run_button.on_click(lambda _b: self.run())
        self.report: DoctorReport | None = None

    def run(self) -> Outcome:
        """Run the doctor; the entry shows every step, then the diagnosis of each failure with its IDs."""
        self.walkthrough.close()  # a fresh target: the check starts from a clean sandbox/cassette
        try:
            target = self.walkthrough.target()
            steps = list(
                run_doctor(target.settings, target.session, sandbox=target.sandbox, max_wait=0.0, sleep=_no_sleep)
            )
        except O365CheckError as exc:
            body = failure_html(exc, self.walkthrough.current_settings(), self.walkthrough.redactor())
            return self.history.record("The whole check", body, None)
        self.report = build_report(target.settings, steps, target.label)
        return self.history.record(
            f"The whole check ({target.label})", report_body(self.report, self.walkthrough.redactor()), self.report
        )


def report_body(report: DoctorReport, redactor: Any = None) -> str:
    """Verdict, every step, each failure's diagnosis, then the advice."""
    failed = report.failed_step
    verdict = (
        render.message("ok", "Every step passed.")
        if failed is None
        else render.message("failed", f"Exit code {report.exit_code}: step {failed.title!r} failed.")
    )
    html = verdict + render.steps_table(report.steps, redactor)
    return html + "".join(render.diagnosis_html(advice, redactor) for advice in report.advice)


class ScenarioTour(Panel):
    """A scenario picker with its summary and a check button, plus a table of all scenarios."""

    def __init__(self) -> None:
        self.scenario = w.Dropdown(options=list(SCENARIOS), description="Scenario")
        self.summary = w.HTML()
        self.check_button = w.Button(
            description="Check this scenario", button_style="primary", layout=w.Layout(width="auto")
        )
        self.all_button = w.Button(description="Check every scenario", layout=w.Layout(width="auto"))
        self.history = History()
        self.widget = w.VBox(
            [w.HBox([self.scenario, self.check_button, self.all_button]), self.summary, self.history.widget]
        )
        self.scenario.observe(self._show_summary, names="value")
        self.check_button.on_click(lambda _b: self.check())
        self.all_button.on_click(lambda _b: self.check_all())
        self._show_summary()

    def _show_summary(self, _change: Any = None) -> None:
        self.summary.value = render.message("info", SCENARIOS[self.scenario.value].summary)

    def check(self, name: str | None = None) -> Outcome:
        """Run the check against one scenario; the entry shows its steps and diagnosis (value: the report)."""
        if name is not None:
            self.scenario.value = name
        report = check_scenario(self.scenario.value)
        return self.history.record(f"Sandbox scenario {self.scenario.value!r}", report_body(report), report)

    def check_all(self) -> Outcome:
        """One row per scenario: the step that failed first, its code and the diagnosis title."""
        reports = {name: check_scenario(name) for name in SCENARIOS}
        rows = []
        for name, report in reports.items():
            failed = report.failed_step
            if failed is None:
                rows.append((name, render.badge("passed"), "", "", "Everything passed"))
            else:
                title = failed.diagnosis.title if failed.diagnosis is not None else failed.summary
                rows.append((name, render.badge("failed"), failed.title, failed.error_code, title))
        table = render.kv_table(rows, ("Scenario", "Result", "Fails at", "Code", "Diagnosis"), raw_columns=(1,))
        return self.history.record("Every sandbox scenario", table, reports)


def scenarios_html() -> Any:
    """The sandbox scenarios as a table (name and what it shows), for the index notebook."""
    from IPython.display import HTML

    rows = [(name, scenario.summary) for name, scenario in SCENARIOS.items()]
    return HTML(render.kv_table(rows, ("Scenario", "What it shows")))


def report_html(report: DoctorReport, redactor: Any = None) -> Any:
    """The report as a static ``IPython.display.HTML`` (it survives nbconvert; widgets need a kernel)."""
    from IPython.display import HTML

    settings = render.kv_table(report.settings.items(), ("Setting", "Value"), redactor)
    return HTML(f"<h3>o365check: {escape(report.target)}</h3>{settings}{report_body(report, redactor)}")
