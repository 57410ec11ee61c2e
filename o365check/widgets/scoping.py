"""``MailboxScopingPanel``: the Exchange Online commands that limit Mail.Send to chosen mailboxes."""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as w

from o365check.consent import mailbox_scoping

from . import render
from .base import Panel
from .state import Walkthrough

__all__ = ["MailboxScopingPanel"]


class MailboxScopingPanel(Panel):
    """Client ID, sender and an optional mail-enabled security group; the commands follow as you type."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        settings = walkthrough.settings()
        style = {"description_width": "150px"}
        layout = w.Layout(width="620px")
        self.client_id = w.Text(value=settings.client_id, description="Client ID", style=style, layout=layout)
        self.sender = w.Text(value=settings.sender, description="Sender e-mail", style=style, layout=layout)
        self.group = w.Text(
            description="Group (optional)",
            placeholder="mail-enabled security group, e.g. notifiers@contoso.com",
            style=style,
            layout=layout,
        )
        self.commands = w.HTML()
        self.widget = w.VBox([self.client_id, self.sender, self.group, self.commands])
        for box in (self.client_id, self.sender, self.group):
            box.observe(self.show_commands, names="value")
        self.show_commands()

    def show_commands(self, _change: Any = None) -> None:
        """Fill the commands for the values typed; unknown values stay as <placeholders>."""
        scoping = mailbox_scoping(
            self.client_id.value.strip(), self.sender.value.strip(), group=self.group.value.strip()
        )
        # Prose as paragraphs, commands as code: a pre block would break the explanation mid-word.
        blocks = [
            ("Option A: Application Access Policy (Exchange Online PowerShell)", scoping.access_policy),
            ("Option B: RBAC for Applications (Exchange Online PowerShell)", scoping.rbac),
            ("Check", scoping.verify),
        ]
        self.commands.value = f"<p>{render.linked(scoping.explanation)}</p>" + "".join(
            f"<p><b>{escape(title)}</b></p>" + render.pre("\n".join(commands)) for title, commands in blocks
        )
