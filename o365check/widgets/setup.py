"""``SetupChecklist``: the guide's set-up steps as a checklist, with the admin-consent link.

The steps follow the guide (reference §5): register the app, copy the two IDs, create a client
secret and copy its Value, add Mail.Send as an *application* permission, grant admin consent,
optionally limit the app to chosen mailboxes, then test.
"""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as w

from o365check.consent import admin_consent_url, api_permissions_portal_hint

from . import render
from .base import Panel
from .state import Walkthrough

__all__ = ["SETUP_STEPS", "SetupChecklist"]

# (short name, what to do, where / what to watch for)
SETUP_STEPS: tuple[tuple[str, str, str], ...] = (
    (
        "register",
        "Register the app",
        "Microsoft Entra admin center > App registrations > New registration; single tenant; no redirect URI needed.",
    ),
    (
        "ids",
        "Copy the Application (client) ID and the Directory (tenant) ID",
        "Both are on the app's Overview page. The Object ID is a different GUID: do not use it.",
    ),
    (
        "secret",
        "Create a client secret and copy its Value",
        "Certificates & secrets > New client secret. Copy the Value column at once (it is shown only once); "
        "the Secret ID column is not the secret.",
    ),
    (
        "permission",
        "Add Mail.Send as an application permission",
        "API permissions > Add a permission > Microsoft Graph > Application permissions > Mail.Send "
        "(not Delegated permissions).",
    ),
    (
        "consent",
        "Grant admin consent",
        "Click 'Grant admin consent for <tenant>' or open the link below as an administrator; the Status column "
        "must show Granted.",
    ),
    (
        "scope",
        "Optional: limit Mail.Send to the sender mailbox",
        "Without it the app can send as any mailbox in the tenant (see the mailbox-scoping notebook).",
    ),
    (
        "test",
        "Test: token request, then sendMail",
        "The token and send notebooks do what the guide's Postman test does.",
    ),
)


class SetupChecklist(Panel):
    """One checkbox per step, a progress line, and the admin-consent link for the typed IDs."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.boxes = {
            name: w.Checkbox(description=title, indent=False, layout=w.Layout(width="auto"))
            for name, title, _how in SETUP_STEPS
        }
        self.hints = {
            name: w.HTML(f"<div style='margin-left:24px;color:#57606a'>{escape(how)}</div>")
            for name, _title, how in SETUP_STEPS
        }
        self.progress = w.HTML()
        self.consent = w.HTML()
        rows: list[w.Widget] = []
        for name in self.boxes:
            rows += [self.boxes[name], self.hints[name]]
        self.widget = w.VBox(rows + [self.progress, self.consent])
        for box in self.boxes.values():
            box.observe(self._show_progress, names="value")
        walkthrough.on_change(self.show_consent_link)
        self._show_progress()
        self.show_consent_link()

    @property
    def done(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.value]

    def _show_progress(self, _change: Any = None) -> None:
        left = [title for name, title, _how in SETUP_STEPS if not self.boxes[name].value]
        if not left:
            self.progress.value = render.message("ok", f"All {len(SETUP_STEPS)} steps done.")
        else:
            self.progress.value = render.message(
                "info", f"{len(SETUP_STEPS) - len(left)} of {len(SETUP_STEPS)} steps done; next: {left[0]}."
            )

    def show_consent_link(self) -> None:
        """The admin-consent URL for the tenant and client ID in use (placeholders until typed)."""
        settings = self.walkthrough.settings()
        tenant, client_id = settings.tenant_id, settings.client_id
        if self.walkthrough.mode == "sandbox" and not (tenant and client_id):
            from o365check.sandbox import Sandbox  # the scenario's IDs, so the link is complete

            typed = Sandbox(self.walkthrough.scenario).credentials
            tenant, client_id = tenant or typed["tenant_id"], client_id or typed["client_id"]
        url = admin_consent_url(tenant, client_id, cloud=settings.cloud)
        self.consent.value = (
            "<b>Admin consent</b>: an administrator opens this link and accepts "
            "(it grants every application permission the app lists):<br>"
            + render.link(url)
            + f"<p>{render.linked(api_permissions_portal_hint(client_id, settings.cloud))}</p>"
        )
