"""``SendPanel``: send the guide's test e-mail and see the sandbox outbox."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from o365check.auth import acquire_app_token
from o365check.errors import O365CheckError
from o365check.graph import send_mail
from o365check.mail import build_test_message
from o365check.settings import Settings

from . import render
from .base import History, Outcome, Panel, failure_html
from .state import Walkthrough

__all__ = ["SendPanel", "outbox_html"]


def outbox_html(outbox: list[dict[str, Any]]) -> str:
    """The sandbox's accepted messages: from, to, subject, when."""
    if not outbox:
        return "<b>Sandbox outbox</b>: empty."
    rows = []
    for message in outbox:
        to = ", ".join(str(a.get("address", a) if isinstance(a, dict) else a) for a in message.get("to", []))
        rows.append((message.get("sender", ""), to, message.get("subject", ""), message.get("received_at", "")))
    return f"<b>Sandbox outbox</b> ({len(outbox)} message(s))" + render.kv_table(
        rows, ("From", "To", "Subject", "Accepted at")
    )


class SendPanel(Panel):
    """Recipient and a send button; every send adds an entry (newest first) with Graph's answer and the outbox.

    An empty recipient means the settings' recipient: ``O365CHECK_RECIPIENT`` (or, in the sandbox, the
    scenario's), else the sender itself as the guide's "send test e-mail" button does. The placeholder
    names the address that would be used, so the text never promises one address and mails another.
    """

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.recipient = w.Text(description="Send to", layout=w.Layout(width="520px"))
        self.send_button = w.Button(
            description="Send the test e-mail", button_style="primary", layout=w.Layout(width="auto")
        )
        self.history = History()
        self.widget = w.VBox([w.HBox([self.recipient, self.send_button]), self.history.widget])
        self.send_button.on_click(lambda _b: self.send())
        walkthrough.on_change(self._show_default_recipient)
        self._show_default_recipient()

    def default_recipient(self) -> str:
        """Who gets the message when the box is empty, and why."""
        settings = self.walkthrough.settings()
        if self.walkthrough.mode == "sandbox" and not settings.recipient:
            from o365check.sandbox import Sandbox  # the scenario's typed values, without opening a target

            typed = Sandbox(self.walkthrough.scenario).credentials
            if typed.get("recipient"):
                return f"{typed['recipient']} (the sandbox scenario's recipient)"
            settings = settings.merged_over(Settings(sender=typed.get("sender", "")))
        if settings.recipient:
            return f"{settings.recipient} ({settings.source_of('recipient')})"
        return f"{settings.sender} (the sender itself)" if settings.sender else "the sender itself"

    def _show_default_recipient(self) -> None:
        self.recipient.placeholder = f"empty: {self.default_recipient()}"

    def send(self) -> Outcome:
        """POST the test message with the walkthrough's token (getting one through MSAL if needed)."""
        redactor = self.walkthrough.redactor()
        title = "Send the test e-mail"
        try:
            target = self.walkthrough.target()
            title += f" ({target.label})"
            settings = target.settings
            settings.validate()
            note = ""
            if self.walkthrough.token is None:
                self.walkthrough.token = acquire_app_token(settings, target.session)
                note = "No token yet, so one was requested through MSAL first. "
            # Like the doctor (and its cassettes): the settings' recipient if set, else the sender itself (the guide).
            to = self.recipient.value.strip() or settings.effective_recipient
            result = send_mail(
                target.session, settings, self.walkthrough.token.access_token, build_test_message(settings.sender, to)
            )
        except O365CheckError as exc:
            body = failure_html(exc, self.walkthrough.current_settings(), self.walkthrough.redactor())
            return self.history.record(title, body + self._outbox_html(), None)
        body = render.message(
            "ok",
            f"{note}Graph answered {result.status} Accepted: the message from {settings.sender} to {to} was "
            "accepted for delivery (accepted is not yet delivered). "
            f"Request ID {result.request_id or '(none)'}, client request ID {result.client_request_id}.",
            redactor,
        )
        return self.history.record(title, body + self._outbox_html(), result)

    def _outbox_html(self) -> str:
        target = self.walkthrough.opened
        if target is not None and target.sandbox is not None:
            return outbox_html(target.sandbox.outbox)
        return (
            "<i>Live or replay: there is no outbox to look into here; check the sender's "
            "Sent Items (the message is saved there) and the recipient's inbox.</i>"
        )
