"""The console reporter: each request with status, size and time, each test with a mark, a summary
table and numbered failures (Newman's ``cli`` reporter layout), plus the diagnosis from the doctor's
catalog when a response is a Microsoft identity or Graph error.

It writes to the stream it is given (the CLI passes stdout); it never reads the environment. On a
terminal, long runs show a progress bar instead of one block per request.
"""

from __future__ import annotations

from typing import TextIO

from ...diagnosis import DiagnosisContext, diagnose, format_diagnosis
from .. import events as ev
from ..summary import RunSummary

__all__ = ["CliReporter"]

PROGRESS_THRESHOLD = 50  # planned requests from which a terminal gets a progress bar


def _size(n: int) -> str:
    return f"{n}B" if n < 1024 else f"{n / 1024:.1f}kB" if n < 1024 * 1024 else f"{n / 1048576:.1f}MB"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


class CliReporter:
    """Listens to run events and writes Newman-style console output."""

    def __init__(
        self,
        stream: TextIO,
        summary: RunSummary,
        *,
        color: bool = True,
        progress: bool | None = None,
        context: DiagnosisContext | None = None,
        target: str = "",
    ):
        self.out, self.summary = stream, summary
        self.target = target  # what answers ("SANDBOX ...", "live ..."): said on the first line
        self.context = context
        self.color = color
        self._progress = progress
        self._done = 0
        self._planned = 0
        self._diagnosed: set[str] = set()

    def _c(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def _write(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self._planned = event.iterations * event.items
            if self._progress is None:
                isatty = getattr(self.out, "isatty", lambda: False)
                self._progress = bool(isatty()) and self._planned >= PROGRESS_THRESHOLD
            self._write(f"o365check run{': ' + self.target if self.target else ''}\n\n{event.collection}")
            return
        if isinstance(event, ev.RunCompleted):
            if self._progress:
                self._write()
            self._write_summary(event)
            return
        if self._progress:
            self._handle_progress(event)
            return
        if isinstance(event, ev.IterationStarted) and event.count > 1:
            self._write(f"\nIteration {event.iteration + 1}/{event.count}")
        elif isinstance(event, ev.ItemStarted):
            path = " / ".join((*event.path, event.item))
            self._write(f"\n→ {path}")
        elif isinstance(event, ev.WarningIssued):
            self._write(self._c("33", f"  ⚠ {event.message}"))
        elif isinstance(event, ev.TokenFetched):
            how = "reused cached token" if event.from_cache else "fetched token"
            self._write(
                self._c(
                    "90",
                    f"  ↳ oauth2 client credentials: {how} from {event.token_url} (expires in {event.expires_in}s)",
                )
            )
        elif isinstance(event, ev.VariablesUnresolved):
            names = ", ".join(f"{{{{{n}}}}}" for n in event.names)
            self._write(self._c("33", f"  ⚠ unresolved variable(s) sent as is: {names}"))
        elif isinstance(event, ev.RequestSent):
            self._pending_line = f"  {event.method} {event.url}"
        elif isinstance(event, ev.ResponseReceived):
            mark = "32" if event.code < 400 else "31"
            status = self._c(mark, f"{event.code} {event.status}".strip())
            self._write(f"{getattr(self, '_pending_line', '')} [{status}, {_size(event.size)}, {event.time_ms:.0f}ms]")
            if event.service_error is not None:
                self._write_diagnosis(event.service_error)
        elif isinstance(event, ev.RequestFailed):
            line = getattr(self, "_pending_line", "") if event.url else f"  {event.method}"
            self._write(f"{line} " + self._c("31", f"[errored] {event.message}"))
            if event.kind == "token" or event.kind == "connect":
                self._write_diagnosis(event.error)
        elif isinstance(event, ev.TestPassed):
            self._write(f"  {self._c('32', '✓')}  {event.name}")
        elif isinstance(event, ev.TestSkipped):
            self._write(f"  {self._c('90', '-')}  {event.name} (skipped)")
        elif isinstance(event, ev.TestFailed):
            self._write(self._c("31", f"  {self.summary.failure_count}. {event.name}"))
        elif isinstance(event, ev.ScriptFailed):
            self._write(self._c("31", f"  {self.summary.failure_count}⠄ {event.name} in {event.listen}-script"))
        elif isinstance(event, ev.ScriptNotRun):
            self._write(self._c("33", f"  ⚠ {event.count} {event.listen} script(s) not run: {event.reason}"))
        elif isinstance(event, ev.ConsoleLogged):
            self._write(self._c("90", f"  ┊ {event.text}"))

    def _handle_progress(self, event: ev.Event) -> None:
        if isinstance(event, ev.ItemCompleted):
            self._done += 1
            width = 30
            filled = int(width * self._done / max(1, self._planned))
            failed = self.summary.failure_count
            self.out.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self._done}/{self._planned} requests, {failed} failed"
            )
            self.out.flush()

    def _write_diagnosis(self, error: object) -> None:
        key = getattr(error, "error_code", "") or str(error)
        if key in self._diagnosed:  # once per distinct error; later ones point back
            self._write(self._c("90", f"  (diagnosis for {key} shown above)"))
            return
        self._diagnosed.add(key)
        self._write(_indent(format_diagnosis(diagnose(error, self.context)), "    │ "))

    def _write_summary(self, event: ev.RunCompleted) -> None:
        s = self.summary
        rows = [
            ("iterations", "iterations"),
            ("requests", "requests"),
            ("test-scripts", "testScripts"),
            ("prerequest-scripts", "prerequestScripts"),
            ("assertions", "assertions"),
        ]
        self._write()
        self._write("┌─────────────────────────┬──────────┬──────────┐")
        self._write("│                         │ executed │   failed │")
        self._write("├─────────────────────────┼──────────┼──────────┤")
        for label, key in rows:
            stat = s.stats[key]
            self._write(f"│ {label:>23} │ {stat['total']:>8} │ {stat['failed']:>8} │")
        self._write("├─────────────────────────┴──────────┴──────────┤")
        duration = max(0.0, event.completed_at - event.started_at)
        self._write(f"│ total run duration: {duration * 1000:.0f}ms".ljust(48) + "│")
        self._write(f"│ total data received: {_size(s.response_total_bytes)}".ljust(48) + "│")
        self._write(
            f"│ average response time: {s.response_average:.0f}ms [min: {s.response_min:.0f}ms, max: {s.response_max:.0f}ms, s.d.: {s.response_sd:.0f}ms]"
        )
        self._write("└───────────────────────────────────────────────┘")
        if s.aborted_reason:
            self._write(self._c("33", f"Run stopped: {s.aborted_reason}"))
        if s.failure_count:
            self._write()
            self._write("  #  failure         detail")
            for f in s.failures:
                self._write(f"\n {f.number:>2}. {f.kind:<14} {f.title}")
                self._write(_indent(f.message, "                    "))
                self._write(
                    f"                    at request {f.item!r}"
                    + (f" (iteration {f.iteration + 1})" if s.planned_iterations > 1 else "")
                )
            if s.failure_count > len(s.failures):
                self._write(f"\n ... and {s.failure_count - len(s.failures)} more failures")
        self.out.flush()

    def close(self) -> None:
        self.out.flush()
