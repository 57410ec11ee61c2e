"""``CredentialsPanel``: the four values of the guide's e-mail settings page, checked as you type.

Client ID, Tenant ID, client secret and sender e-mail. The three plain fields are validated on
every keystroke with ``Settings.problems()``. The secret box only sends its value when the
learner leaves it or presses Enter (``continuous_update=False``); the panel then takes the value
into a ``Secret`` and clears the box at once, so the secret is never left in a widget (a widget's
value can be saved with the notebook: reference notebook-testing §2.1).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from o365check.settings import Secret, Settings

from . import render
from .base import Panel
from .state import Walkthrough

__all__ = ["CredentialsPanel", "FIELD_LABELS"]

# Settings field -> the label the guide's e-mail settings page uses (and problems name).
FIELD_LABELS: dict[str, str] = {
    "client_id": "Client ID",
    "tenant_id": "Tenant ID",
    "client_secret": "Client secret",
    "sender": "Sender e-mail",
}
_PLACEHOLDERS = {
    "client_id": "Application (client) ID, e.g. 11111111-2222-3333-4444-555555555555",
    "tenant_id": "Directory (tenant) ID or contoso.onmicrosoft.com",
    "client_secret": "the secret's Value (not its Secret ID); press Enter",
    "sender": "the mailbox the app sends as, e.g. notifications@contoso.com",
}


class CredentialsPanel(Panel):
    """Four fields, a status line under each, and a summary; ``walkthrough.typed`` follows them."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        style = {"description_width": "120px"}
        layout = w.Layout(width="620px")
        self.client_id = w.Text(
            description="Client ID", placeholder=_PLACEHOLDERS["client_id"], style=style, layout=layout
        )
        self.tenant_id = w.Text(
            description="Tenant ID", placeholder=_PLACEHOLDERS["tenant_id"], style=style, layout=layout
        )
        self.secret = w.Password(
            description="Client secret",
            placeholder=_PLACEHOLDERS["client_secret"],
            continuous_update=False,
            style=style,
            layout=layout,
        )
        self.sender = w.Text(
            description="Sender e-mail", placeholder=_PLACEHOLDERS["sender"], style=style, layout=layout
        )
        self.notes = {name: w.HTML() for name in FIELD_LABELS}
        self.summary = w.HTML()
        self.example = w.Button(description="Fill in the sandbox's example values", layout=w.Layout(width="auto"))
        self.forget = w.Button(description="Forget the secret", layout=w.Layout(width="auto"))
        self._secret: Secret | None = None
        boxes = {
            "client_id": self.client_id,
            "tenant_id": self.tenant_id,
            "client_secret": self.secret,
            "sender": self.sender,
        }
        rows: list[w.Widget] = []
        for name, box in boxes.items():
            rows += [box, self.notes[name]]
        self.widget = w.VBox(rows + [w.HBox([self.example, self.forget]), self.summary])
        for box in (self.client_id, self.tenant_id, self.sender):
            box.observe(self._typed, names="value")
        self.secret.observe(self._secret_entered, names="value")
        self.example.on_click(lambda _b: self.fill_sandbox_example())
        self.forget.on_click(lambda _b: self.forget_secret())
        walkthrough.on_change(self._show)
        self._typed()

    # ---------------------------------------------------------------- events
    def _secret_entered(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if not value:
            return  # our own clearing below, or an empty box
        self._secret = Secret(value)
        self.secret.value = ""  # read once: from here on it lives only in a Secret
        self._typed()

    def _typed(self, _change: Any = None) -> None:
        self.walkthrough.set_typed(self.typed_settings())  # set_typed calls _show through on_change

    def typed_settings(self) -> Settings:
        """What was typed, as Settings whose problems name the panel's labels."""
        values: dict[str, Any] = {
            "client_id": self.client_id.value.strip(),
            "tenant_id": self.tenant_id.value.strip(),
            "sender": self.sender.value.strip(),
            "client_secret": self._secret,
        }
        values = {k: v for k, v in values.items() if v}
        return Settings(**values, sources=dict(FIELD_LABELS))

    # ---------------------------------------------------------------- actions
    def fill_sandbox_example(self) -> None:
        """Type the sandbox scenario's tenant, client ID and sender (the secret box stays empty:
        left empty, the scenario's own secret is used)."""
        if self.walkthrough.mode != "sandbox":
            self.summary.value = render.message(
                "error", "The example values belong to the sandbox: choose the sandbox mode first."
            )
            return
        from o365check.sandbox import Sandbox  # the scenario's values, without opening a target

        typed = Sandbox(self.walkthrough.scenario).credentials
        self.client_id.value, self.tenant_id.value, self.sender.value = (
            typed["client_id"],
            typed["tenant_id"],
            typed["sender"],
        )

    def forget_secret(self) -> None:
        """Drop the secret (and the token obtained with it)."""
        self._secret = None
        self._typed()

    # ---------------------------------------------------------------- view
    def _show(self) -> None:
        typed = self.walkthrough.typed
        problems = typed.problems()
        mode = self.walkthrough.mode
        # Empty is fine where something else supplies the value: the scenario, or what the cassette recorded.
        filled_by = {"sandbox": "the sandbox scenario's value", "cassette": "the value the cassette was recorded with"}
        errors = 0
        for name, label in FIELD_LABELS.items():
            mine = [p for p in problems if p.field == label]
            value = getattr(typed, name)
            if not value and mode in filled_by:
                self.notes[name].value = render.message("info", f"{label}: empty, so {filled_by[mode]} is used.")
                continue
            if mine:
                errors += sum(p.severity == "error" for p in mine)
                self.notes[name].value = "".join(
                    render.message("error" if p.severity == "error" else "warning", f"{label} {p.message}. {p.fix}")
                    for p in mine
                )
            elif name == "client_secret":
                self.notes[name].value = render.message(
                    "ok",
                    f"{label}: received ({len(value)} characters) and cleared from the box; it is kept only in this kernel.",
                )
            else:
                self.notes[name].value = render.message("ok", f"{label}: looks right.")
        if errors:
            self.summary.value = render.message(
                "error", f"{errors} value(s) need fixing before a token can be requested."
            )
        elif mode == "sandbox":
            self.summary.value = render.message(
                "ok", f"Ready: sandbox scenario {self.walkthrough.scenario!r} fills any empty field."
            )
        elif mode == "cassette":
            self.summary.value = render.message("ok", "Ready: the cassette's recorded values fill any empty field.")
        else:
            self.summary.value = render.message("ok", "Ready: all four values look right.")
