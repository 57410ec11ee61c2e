"""``SendPanel``: send the guide's test e-mail (to the sender itself) and see the sandbox outbox."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from o365check.auth import acquire_app_token
from o365check.errors import O365CheckError
from o365check.graph import SendResult, send_mail
from o365check.mail import build_test_message

from . import render
from .base import Panel, failure_html
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
    """Recipient (empty: the sender itself, like the guide's "send test e-mail" button) and a send button."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.recipient = w.Text(
            description="Send to",
            placeholder="empty: the sender itself (or O365CHECK_RECIPIENT)",
            layout=w.Layout(width="520px"),
        )
        self.send_button = w.Button(
            description="Send the test e-mail", button_style="primary", layout=w.Layout(width="auto")
        )
        self.result = w.HTML()
        self.outbox = w.HTML()
        self.widget = w.VBox([w.HBox([self.recipient, self.send_button]), self.result, self.outbox])
        self.send_button.on_click(lambda _b: self.send())
        walkthrough.on_change(self._forget_view)

    def _forget_view(self) -> None:
        self.result.value = ""
        self.outbox.value = ""

    def send(self) -> SendResult | None:
        """POST the test message with the walkthrough's token (getting one through MSAL if needed)."""
        redactor = self.walkthrough.redactor()
        try:
            target = self.walkthrough.target()
            settings = target.settings
            settings.validate()
            note = ""
            if self.walkthrough.token is None:
                self.walkthrough.token = acquire_app_token(settings, target.session)
                note = "No token yet, so one was requested through MSAL first. "
            # Like the doctor (and its cassettes): O365CHECK_RECIPIENT if set, else the sender itself (the guide).
            to = self.recipient.value.strip() or settings.effective_recipient
            result = send_mail(
                target.session, settings, self.walkthrough.token.access_token, build_test_message(settings.sender, to)
            )
        except O365CheckError as exc:
            self.result.value = failure_html(exc, self.walkthrough.current_settings(), self.walkthrough.redactor())
            self._show_outbox()
            return None
        self.result.value = render.message(
            "ok",
            f"{note}Graph answered {result.status} Accepted: the message from {settings.sender} to {to} was "
            "accepted for delivery (accepted is not yet delivered). "
            f"Request ID {result.request_id or '(none)'}, client request ID {result.client_request_id}.",
            redactor,
        )
        self._show_outbox()
        return result

    def _show_outbox(self) -> None:
        target = self.walkthrough.opened
        if target is not None and target.sandbox is not None:
            self.outbox.value = outbox_html(target.sandbox.outbox)
        else:
            self.outbox.value = (
                "<i>Live or replay: there is no outbox to look into here; check the sender's "
                "Sent Items (the message is saved there) and the recipient's inbox.</i>"
            )
