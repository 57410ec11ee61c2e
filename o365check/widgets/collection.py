"""``CollectionPanel``: run the guide's Postman collection, record it as a cassette, replay it.

The collection runs against the walkthrough's target (the sandbox scenario, your tenant, or a
cassette) with an environment made from the settings, so the same values as the other notebooks
are used. Every event the runner yields is already masked (``postman.events``); the panel shows
one row per request and its tests, then the diagnosis of a Microsoft error answer.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import ipywidgets as w

from o365check.clouds import cloud_named
from o365check.diagnosis import diagnose
from o365check.errors import O365CheckError
from o365check.postman import RunConfig, iter_run, load_collection
from o365check.postman import events as ev
from o365check.settings import Settings
from o365check.targets import open_target

from . import render
from .base import History, Outcome, Panel, context_of, failure_html
from .state import MODES, Walkthrough

__all__ = ["CollectionPanel", "collection_environment", "events_html"]

GUIDE_COLLECTION = "../collections/office365-sendmail.postman_collection.json"


def collection_environment(settings: Settings) -> dict[str, str]:
    """The guide collection's variables from the settings (names as in example.postman_environment.json)."""
    cloud = cloud_named(settings.cloud)
    return {
        "login_base": cloud.login_base,
        "graph_base": cloud.graph_base,
        "tenant_id": settings.tenant_id,
        "client_id": settings.client_id,
        "client_secret": settings.client_secret.reveal() if settings.client_secret else "",
        "sender": settings.sender,
        "recipient": settings.effective_recipient,
    }


def events_html(events: list[ev.Event], settings: Settings, redactor: Any) -> str:
    """One row per request (status and tests), then the diagnosis of each Microsoft error answer."""
    rows: list[dict[str, str]] = []
    advice = ""
    notes: list[str] = []
    current: dict[str, str] = {}
    for event in events:
        if isinstance(event, ev.RequestSent):
            current = {"item": event.item, "request": f"{event.method} {event.url}", "answer": "", "tests": ""}
            rows.append(current)
        elif isinstance(event, ev.ResponseReceived) and current:
            current["answer"] = f"{event.code} {event.status}"
            if event.service_error is not None:
                advice += render.diagnosis_html(diagnose(event.service_error, context_of(settings)), redactor)
        elif isinstance(event, ev.RequestFailed):
            rows.append(
                {"item": event.item, "request": f"{event.method} {event.url}", "answer": event.message, "tests": ""}
            )
        elif isinstance(event, (ev.ScriptFailed, ev.ScriptNotRun, ev.WarningIssued)):
            # Never silent: a script that did not run explains a test count of zero.
            text = (
                f"{event.listen} script failed: {event.name}: {event.message}"
                if isinstance(event, ev.ScriptFailed)
                else f"{event.listen} script not run: {event.reason}"
                if isinstance(event, ev.ScriptNotRun)
                else event.message
            )
            notes.append(render.message("warning", f"{event.item}: {text}" if event.item else text, redactor))
        elif isinstance(event, (ev.TestPassed, ev.TestFailed)) and current:
            mark = "✔" if isinstance(event, ev.TestPassed) else "✘"
            current["tests"] += (
                f"{mark} {event.name}" + (f": {event.message}" if isinstance(event, ev.TestFailed) else "") + "\n"
            )
    table = render.kv_table(
        [(r["item"], r["request"], r["answer"], r["tests"].strip()) for r in rows],
        ("Request", "Sent", "Answer", "Tests"),
        redactor,
    )
    failed = sum(isinstance(e, ev.TestFailed) for e in events)
    passed = sum(isinstance(e, ev.TestPassed) for e in events)
    status = "ok" if failed == 0 and passed else "failed"
    return render.message(status, f"{passed} test(s) passed, {failed} failed.") + "".join(notes) + table + advice


class CollectionPanel(Panel):
    """Run (in the current mode), run and record to a cassette, or replay that cassette.

    Replaying does not change the walkthrough's mode: the replay opens a target of its own on the
    cassette, so the mode selector, the credentials panel and "Run the collection" keep meaning what
    they show (before, a replay switched the whole notebook to cassette mode behind the selector's back).
    """

    def __init__(self, walkthrough: Walkthrough, collection: str | Path = GUIDE_COLLECTION):
        self.walkthrough = walkthrough
        self.collection = w.Text(value=str(collection), description="Collection", layout=w.Layout(width="620px"))
        # A fresh folder per panel: recordings never land in the repository by accident.
        default = Path(tempfile.mkdtemp(prefix="o365check-")) / "walkthrough.yaml"
        self.cassette = w.Text(value=str(default), description="Cassette", layout=w.Layout(width="620px"))
        self.run_button = w.Button(
            description="Run the collection", button_style="primary", layout=w.Layout(width="auto")
        )
        self.record_button = w.Button(description="Run and record", layout=w.Layout(width="auto"))
        self.replay_button = w.Button(description="Replay the recording", layout=w.Layout(width="auto"))
        self.history = History()
        self.widget = w.VBox(
            [
                self.collection,
                self.cassette,
                w.HBox([self.run_button, self.record_button, self.replay_button]),
                self.history.widget,
            ]
        )
        self.run_button.on_click(lambda _b: self.run())
        self.record_button.on_click(lambda _b: self.record())
        self.replay_button.on_click(lambda _b: self.replay())
        self.events: list[ev.Event] = []

    def run(self) -> Outcome:
        """Run against the walkthrough's target (a fresh one: the run starts from a clean state)."""
        self.walkthrough.close()
        try:
            target = self.walkthrough.target()
        except O365CheckError as exc:
            return self._failed("Run the collection", exc, self.walkthrough.current_settings())
        what = (
            f"Replayed {self.walkthrough.cassette} (no network), recorded against {target.label}."
            if target.mode == "replay"
            else f"Ran against {target.label}."
        )
        return self._run(target, f"Run the collection ({target.label})", what)

    def record(self) -> Outcome:
        """Run in the current mode with every exchange written (scrubbed) to the cassette."""
        path = self.cassette.value.strip()
        settings = replace(self.walkthrough.settings(), cassette=path, record_mode="rewrite")
        title = "Run and record"
        try:
            target = open_target(settings)
        except O365CheckError as exc:
            return self._failed(title, exc, settings)
        try:
            return self._run(
                target, f"{title} ({target.label})", f"Recorded {target.label} to {path} (secrets and tokens scrubbed)."
            )
        finally:
            target.close()  # writes the cassette

    def replay(self) -> Outcome:
        """Run again from the cassette: same answers, no network; the walkthrough's mode stays as it is."""
        path = self.cassette.value.strip()
        title = "Replay the recording"
        if not Path(path).is_file():
            return self.history.record(
                title,
                render.message(
                    "error",
                    f"Cassette {path!r} does not exist. Fix: click 'Run and record' first, or give the path of a recorded cassette.",
                ),
                [],
            )
        settings = replace(self.walkthrough.settings(), sandbox=None, cassette=path, record_mode="none")
        try:
            target = open_target(settings)
        except O365CheckError as exc:
            return self._failed(title, exc, settings)
        try:
            return self._run(
                target,
                f"{title} ({path})",
                f"Replayed {path} (no network), recorded against {target.label}. "
                f"The walkthrough itself is still in {MODES[self.walkthrough.mode].split(' (')[0]} mode.",
            )
        finally:
            target.close()

    def _failed(self, title: str, exc: Exception, settings: Settings) -> Outcome:
        return self.history.record(title, failure_html(exc, settings, settings.redactor()), [])

    def _run(self, target: Any, title: str, what: str) -> Outcome:
        settings = target.settings
        redactor = settings.redactor()
        try:
            collection = load_collection(self.collection.value.strip())
            config = RunConfig(env_vars=collection_environment(settings))
            self.events = list(iter_run(collection, config, session=target.session))
        except O365CheckError as exc:
            return self.history.record(title, failure_html(exc, settings, redactor), [])
        body = render.message("info", what, redactor) + events_html(self.events, settings, redactor)
        return self.history.record(title, body, self.events)
