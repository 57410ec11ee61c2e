"""The run summary: a listener that counts what happened, keeps numbered failures, sets the exit code.

Counts follow Newman's ``run.stats`` names; response times are kept as running sums (Welford), so
memory stays flat however many iterations run. Failure details are capped (the count is not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ServiceError
from . import events as ev

__all__ = ["Failure", "RunSummary", "STAT_NAMES"]

STAT_NAMES = (
    "iterations",
    "items",
    "scripts",
    "prerequests",
    "requests",
    "tests",
    "assertions",
    "testScripts",
    "prerequestScripts",
)
MAX_FAILURE_DETAILS = 1000


@dataclass(frozen=True)
class Failure:
    """One numbered failure, as the console and JSON reports list them."""

    number: int
    kind: str  # "AssertionError" | "ScriptError" | "RequestError" | "ScriptNotRun"
    item: str
    iteration: int
    title: str
    message: str
    listen: str = ""
    service_error: ServiceError | None = field(default=None, compare=False)


class RunSummary:
    """Listens to run events; ``exit_code``: 0 passed, 1 failed, 2 unusable input, 3 unreachable."""

    def __init__(self) -> None:
        self.stats = {name: {"total": 0, "pending": 0, "failed": 0} for name in STAT_NAMES}
        self.failures: list[Failure] = []
        self.failure_count = 0
        self.collection = ""
        self.started_at = 0.0
        self.completed_at = 0.0
        self.aborted_reason = ""
        self.response_total_bytes = 0
        self._n = 0
        self._mean = 0.0
        self._m2 = 0.0
        self.response_min = 0.0
        self.response_max = 0.0
        self._iteration = 0
        self._last_service_error: ServiceError | None = None
        self._request_sent = False
        self._worst = 0
        self.planned_iterations = 0
        self.planned_items = 0

    # timings ----------------------------------------------------------------------------------
    @property
    def response_average(self) -> float:
        return self._mean if self._n else 0.0

    @property
    def response_sd(self) -> float:
        return math.sqrt(self._m2 / self._n) if self._n else 0.0

    def _add_time(self, ms: float) -> None:
        self._n += 1
        delta = ms - self._mean
        self._mean += delta / self._n
        self._m2 += delta * (ms - self._mean)
        self.response_min = ms if self._n == 1 else min(self.response_min, ms)
        self.response_max = max(self.response_max, ms)

    # failures ---------------------------------------------------------------------------------
    def _fail(
        self,
        kind: str,
        item: str,
        title: str,
        message: str,
        listen: str = "",
        code: int = 1,
        service_error: ServiceError | None = None,
    ) -> None:
        self.failure_count += 1
        self._worst = _worse(self._worst, code)
        if len(self.failures) < MAX_FAILURE_DETAILS:
            self.failures.append(
                Failure(self.failure_count, kind, item, self._iteration, title, message, listen, service_error)
            )

    @property
    def exit_code(self) -> int:
        return self._worst

    # the listener -----------------------------------------------------------------------------
    def handle(self, event: ev.Event) -> None:
        s = self.stats
        if isinstance(event, ev.RunStarted):
            self.collection, self.started_at = event.collection, event.started_at
            self.planned_iterations, self.planned_items = event.iterations, event.items
        elif isinstance(event, ev.IterationStarted):
            self._iteration = event.iteration
        elif isinstance(event, ev.IterationCompleted):
            s["iterations"]["total"] += 1
        elif isinstance(event, ev.ItemStarted):
            self._last_service_error = None
            self._request_sent = False
        elif isinstance(event, ev.ItemCompleted):
            s["items"]["total"] += 1
        elif isinstance(event, ev.ScriptRan):
            s["scripts"]["total"] += 1
            s["testScripts" if event.listen == "test" else "prerequestScripts"]["total"] += 1
        elif isinstance(event, ev.ScriptNotRun):
            key = "testScripts" if event.listen == "test" else "prerequestScripts"
            s[key]["total"] += event.count
            s[key]["pending"] += event.count
            s["scripts"]["pending"] += event.count
            self._fail("ScriptNotRun", event.item, f"{event.listen} script not run", event.reason, event.listen)
        elif isinstance(event, ev.ScriptFailed):
            s["scripts"]["failed"] += 1
            s["testScripts" if event.listen == "test" else "prerequestScripts"]["failed"] += 1
            where = f" (line {event.line})" if event.line else ""
            self._fail(
                "ScriptError", event.item, f"{event.name} in {event.listen} script{where}", event.message, event.listen
            )
        elif isinstance(event, ev.RequestSent):
            s["requests"]["total"] += 1
            self._request_sent = True
        elif isinstance(event, ev.ResponseReceived):
            self._add_time(event.time_ms)
            self.response_total_bytes += event.size
            self._last_service_error = event.service_error
        elif isinstance(event, ev.RequestFailed):
            if not self._request_sent:  # refused before sending: still one request in Newman's count
                s["requests"]["total"] += 1
            s["requests"]["failed"] += 1
            code = 2 if event.kind in ("secret-routing", "input") else 3 if event.kind == "connect" else 1
            service_error = event.error if isinstance(event.error, ServiceError) else None
            self._fail(
                "RequestError", event.item, f"{event.kind} error", event.message, code=code, service_error=service_error
            )
        elif isinstance(event, ev.ScriptsCompleted):
            s["tests" if event.listen == "test" else "prerequests"]["total"] += 1
        elif isinstance(event, (ev.TestPassed, ev.TestFailed, ev.TestSkipped)):
            # Newman counts a skipped assertion in the total only (summary.js: no `beforeAssertion`)
            s["assertions"]["total"] += 1
            if isinstance(event, ev.TestFailed):
                s["assertions"]["failed"] += 1
                self._fail(
                    "AssertionError",
                    event.item,
                    event.name,
                    event.message,
                    "test",
                    service_error=self._last_service_error,
                )
        elif isinstance(event, ev.RunCompleted):
            self.completed_at = event.completed_at
            if event.aborted:
                self.aborted_reason = event.reason


def _worse(current: int, new: int) -> int:
    """Exit-code priority: unusable input (2) over unreachable (3) over failed (1) over passed (0)."""
    rank = {0: 0, 1: 1, 3: 2, 2: 3}
    return new if rank.get(new, 1) > rank.get(current, 0) else current
