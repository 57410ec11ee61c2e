"""The JUnit reporter: one ``<testsuite>`` per executed request, one ``<testcase>`` per test
(Newman's ``junit`` reporter layout), failure text in CDATA. Suites are spooled to a temporary
file and the root element, which carries the totals, is written at the end.
"""

from __future__ import annotations

import tempfile
from typing import IO
from xml.sax.saxutils import quoteattr

from .. import events as ev
from ..summary import RunSummary

__all__ = ["JUnitReporter"]


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot hold."""
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)


class JUnitReporter:
    """Writes a JUnit XML report to ``stream`` when the run completes."""

    def __init__(self, stream: IO[str], summary: RunSummary):
        self.out, self.summary = stream, summary
        self._suites = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8")
        self._cases: list[str] = []
        self._suite_name = ""
        self._suite_id = ""
        self._time_ms = 0.0
        self._failures = 0
        self._errors = 0
        self._totals = {"tests": 0, "failures": 0, "errors": 0}
        self._iteration = 0
        self._iterations = 1

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self._iterations = event.iterations
        elif isinstance(event, ev.IterationStarted):
            self._iteration = event.iteration
        elif isinstance(event, ev.ItemStarted):
            name = " / ".join((*event.path, event.item))
            if self._iterations > 1:
                name += f" (iteration {event.iteration + 1})"
            self._suite_name, self._suite_id = name, event.item_id
            self._cases, self._time_ms, self._failures, self._errors = [], 0.0, 0, 0
        elif isinstance(event, ev.ResponseReceived):
            self._time_ms = event.time_ms
        elif isinstance(event, ev.TestPassed):
            self._case(event.name, "")
        elif isinstance(event, ev.TestSkipped):
            self._case(event.name, "<skipped/>")
        elif isinstance(event, ev.TestFailed):
            self._failures += 1
            self._case(
                event.name,
                f'<failure type="AssertionFailure" message={quoteattr(_clean(event.message))}>{_cdata(_clean(event.message))}</failure>',
            )
        elif isinstance(event, ev.RequestFailed):
            self._errors += 1
            self._case(
                "request",
                f"<error type={quoteattr(type(event.error).__name__)} message={quoteattr(_clean(event.message))}>{_cdata(_clean(event.message))}</error>",
            )
        elif isinstance(event, ev.ScriptFailed):
            self._errors += 1
            self._case(
                f"{event.listen}-script",
                f"<error type={quoteattr(event.name)} message={quoteattr(_clean(event.message))}>{_cdata(_clean(event.message))}</error>",
            )
        elif isinstance(event, ev.ItemCompleted):
            tests = len(self._cases)
            self._totals["tests"] += tests
            self._totals["failures"] += self._failures
            self._totals["errors"] += self._errors
            attrs = (
                f'name={quoteattr(_clean(self._suite_name))} id={quoteattr(self._suite_id)} tests="{tests}" '
                f'failures="{self._failures}" errors="{self._errors}" time="{self._time_ms / 1000:.3f}"'
            )
            body = "".join(self._cases)
            self._suites.write(
                f"  <testsuite {attrs}>\n{body}  </testsuite>\n" if body else f"  <testsuite {attrs}/>\n"
            )
        elif isinstance(event, ev.RunCompleted):
            self._finish(event)

    def _case(self, name: str, inner: str) -> None:
        classname = quoteattr(_clean(self._suite_name))
        attrs = f'name={quoteattr(_clean(name))} classname={classname} time="{self._time_ms / 1000:.3f}"'
        self._cases.append(f"    <testcase {attrs}>{inner}</testcase>\n" if inner else f"    <testcase {attrs}/>\n")

    def _finish(self, event: ev.RunCompleted) -> None:
        t = self._totals
        duration = max(0.0, event.completed_at - event.started_at)
        self.out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.out.write(
            f'<testsuites name={quoteattr(_clean(self.summary.collection))} tests="{t["tests"]}" '
            f'failures="{t["failures"]}" errors="{t["errors"]}" time="{duration:.3f}">\n'
        )
        self._suites.seek(0)
        while chunk := self._suites.read(1 << 16):
            self.out.write(chunk)
        self.out.write("</testsuites>\n")
        self.out.flush()

    def close(self) -> None:
        self._suites.close()
