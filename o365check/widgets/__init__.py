"""Notebook views over the o365check core (the ONLY package that imports ipywidgets/IPython).

Each panel is a small class whose callbacks write what the learner sees into widget values
(``HTML.value``), so it can be driven and checked in plain pytest (``.value``, ``Button.click()``).
Panels share one ``Walkthrough``: the mode (sandbox scenario, your tenant, a cassette), the typed
values and the last token, kept in Python and never in a widget.

    >>> from o365check.widgets import Walkthrough, ModeSelector, CredentialsPanel
    >>> walk = Walkthrough()                 # sandbox unless AZURE_* or O365CHECK_CASSETTE are set
    >>> ModeSelector(walk); CredentialsPanel(walk)
"""

from .base import History, Outcome
from .collection import CollectionPanel
from .credentials import CredentialsPanel
from .doctor import DoctorPanel, ScenarioTour, check_scenario, report_html, scenarios_html
from .mode import ModeSelector
from .scoping import MailboxScopingPanel
from .send import SendPanel
from .setup import SetupChecklist
from .smtp import SmtpPanel
from .state import MODES, Walkthrough
from .token import TokenPanel

__all__ = [
    "MODES",
    "CollectionPanel",
    "CredentialsPanel",
    "DoctorPanel",
    "History",
    "MailboxScopingPanel",
    "ModeSelector",
    "Outcome",
    "ScenarioTour",
    "SendPanel",
    "SetupChecklist",
    "SmtpPanel",
    "TokenPanel",
    "Walkthrough",
    "check_scenario",
    "report_html",
    "scenarios_html",
]
