"""``SmtpPanel``: the SMTP AUTH XOAUTH2 set-up (reference §8.1) filled in, and the SMTP check, step by step."""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as w

from o365check.doctor import DoctorReport, build_report
from o365check.errors import O365CheckError
from o365check.smtp import SmtpOptions, exchange_cloud
from o365check.smtp_diagnosis import SmtpContext, smtp_setup_steps
from o365check.smtp_doctor import open_smtp_channel, run_smtp_doctor

from . import render
from .base import Panel, failure_html
from .state import Walkthrough

__all__ = ["SmtpPanel"]


class SmtpPanel(Panel):
    """The set-up commands for the current values, the client's options, and one button for the check."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.setup = w.HTML()
        self.user = w.Text(description="XOAUTH2 user", placeholder="(the sender)")
        self.starttls = w.Checkbox(value=True, description="STARTTLS (port 587)")
        self.run_button = w.Button(description="Check SMTP AUTH", button_style="primary", layout=w.Layout(width="auto"))
        self.result = w.HTML()
        self.widget = w.VBox([self.setup, w.HBox([self.user, self.starttls, self.run_button]), self.result])
        self.run_button.on_click(lambda _b: self.run())
        walkthrough.on_change(self._refresh)
        self.report: DoctorReport | None = None
        self._refresh()

    def _refresh(self) -> None:
        self.result.value = ""
        self._show_setup(self.walkthrough.current_settings())

    def _show_setup(self, settings: Any) -> None:
        ctx = SmtpContext(settings.tenant_id, settings.client_id, settings.sender, cloud=settings.cloud)
        steps = "".join(f"<li><pre>{escape(step)}</pre></li>" for step in smtp_setup_steps(ctx))
        host = exchange_cloud(settings.cloud).smtp_host
        self.setup.value = f"<b>Set-up for SMTP AUTH to {escape(host)}:587</b><ol>{steps}</ol>"

    def run(self) -> DoctorReport | None:
        """Settings and discovery, a token for Exchange Online, its claims, then the SMTP dialogue."""
        self.walkthrough.close()
        options = SmtpOptions(user=self.user.value.strip(), starttls=self.starttls.value)
        try:
            target = self.walkthrough.target()
            channel = open_smtp_channel(target, options)
            try:
                steps = list(
                    run_smtp_doctor(target.settings, target.session, channel, sandbox=target.sandbox, max_wait=0.0)
                )
            finally:
                channel.close(target)
        except O365CheckError as exc:
            self.result.value = failure_html(exc, self.walkthrough.current_settings(), self.walkthrough.redactor())
            return None
        self.report = build_report(target.settings, steps, target.label)
        self._show_setup(target.settings)  # the sandbox scenario's values are known now
        failed = self.report.failed_step
        verdict = (
            ("ok", "Every SMTP step passed.")
            if self.report.ok
            else ("failed", f"Step {failed.title!r} failed." if failed else "Some steps were skipped.")
        )
        html = render.message(*verdict) + render.steps_table(steps, self.walkthrough.redactor())
        self.result.value = f"<b>{escape(target.label)}</b>" + html
        return self.report
