"""What a run reports: frozen dataclasses named as past-tense facts.

``runner.iter_run`` yields these in order; reporters and the summary only listen. Everything an
event holds has already been masked (secrets, tokens, ``Authorization``), so a listener cannot
leak what it was never given. Order for one item::

    ItemStarted, [ScriptNotRun | ScriptFailed | ConsoleLogged | TestPassed/TestFailed/TestSkipped]*
    (prerequest), [VariablesUnresolved], [TokenFetched], RequestSent, ResponseReceived | RequestFailed,
    [...] (test scripts), ItemCompleted
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import O365CheckError, ServiceError

__all__ = [
    "ConsoleLogged",
    "Event",
    "ItemCompleted",
    "ItemStarted",
    "IterationCompleted",
    "IterationStarted",
    "RequestFailed",
    "RequestSent",
    "ResponseReceived",
    "RunCompleted",
    "RunStarted",
    "ScriptFailed",
    "ScriptNotRun",
    "ScriptRan",
    "ScriptsCompleted",
    "TestFailed",
    "TestPassed",
    "TestSkipped",
    "TokenFetched",
    "VariablesUnresolved",
    "WarningIssued",
]


@dataclass(frozen=True)
class Event:
    """Base of all run events."""


@dataclass(frozen=True)
class RunStarted(Event):
    """The run began: collection name, iterations planned, items per iteration."""

    collection: str
    iterations: int
    items: int
    started_at: float


@dataclass(frozen=True)
class WarningIssued(Event):
    """Something was odd but the run went on (schema problem, unknown folder, unsupported auth...)."""

    message: str
    item: str = ""


@dataclass(frozen=True)
class IterationStarted(Event):
    """An iteration began (0-based ``iteration``)."""

    iteration: int
    count: int


@dataclass(frozen=True)
class ItemStarted(Event):
    """A request item began; ``path`` is its folder path, outermost first."""

    iteration: int
    item: str
    item_id: str
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScriptNotRun(Event):
    """Scripts exist for the item but could not be run (no JavaScript engine); never silent."""

    item: str
    listen: str
    reason: str
    count: int = 1


@dataclass(frozen=True)
class ScriptRan(Event):
    """A script ran to its end or to an error (its tests and errors follow as their own events)."""

    item: str
    listen: str


@dataclass(frozen=True)
class ScriptsCompleted(Event):
    """An item's pre-request (or test) phase ended, scripts or not (Newman's ``prerequest`` and
    ``test`` events, counted in ``run.stats.prerequests`` and ``run.stats.tests``)."""

    item: str
    listen: str


@dataclass(frozen=True)
class ScriptFailed(Event):
    """A script threw (outside a ``pm.test``); the item goes on, as in Newman."""

    item: str
    listen: str
    name: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class ConsoleLogged(Event):
    """A script wrote to ``console`` (masked)."""

    item: str
    level: str
    text: str


@dataclass(frozen=True)
class TestPassed(Event):
    """A ``pm.test`` passed."""

    item: str
    name: str
    iteration: int = 0


@dataclass(frozen=True)
class TestFailed(Event):
    """A ``pm.test`` failed; ``message`` is the assertion error (masked)."""

    item: str
    name: str
    message: str
    iteration: int = 0


@dataclass(frozen=True)
class TestSkipped(Event):
    """A ``pm.test.skip`` was declared."""

    item: str
    name: str
    iteration: int = 0


@dataclass(frozen=True)
class VariablesUnresolved(Event):
    """``{{name}}`` references found in no scope; sent verbatim, as Newman does."""

    item: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class TokenFetched(Event):
    """The runner got an OAuth 2.0 client-credentials token (or reused a cached one)."""

    item: str
    token_url: str
    client_id: str
    scope: str
    from_cache: bool
    expires_in: int


@dataclass(frozen=True)
class RequestSent(Event):
    """A request went out (masked view: method, URL, headers, body)."""

    item: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class ResponseReceived(Event):
    """A response came back. ``service_error`` is set for a Microsoft identity/Graph error body."""

    item: str
    code: int
    status: str
    headers: tuple[tuple[str, str], ...]
    body: str
    size: int
    time_ms: float
    service_error: ServiceError | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RequestFailed(Event):
    """The request could not be made: refused (secret routing), token fetch failed, no connection."""

    item: str
    method: str
    url: str
    error: O365CheckError = field(compare=False)
    kind: str = "error"  # "connect" | "timeout" | "secret-routing" | "token" | "input"

    @property
    def message(self) -> str:
        return str(self.error)


@dataclass(frozen=True)
class ItemCompleted(Event):
    """An item finished (whatever happened to it)."""

    iteration: int
    item: str
    item_id: str


@dataclass(frozen=True)
class IterationCompleted(Event):
    """An iteration finished."""

    iteration: int
    count: int


@dataclass(frozen=True)
class RunCompleted(Event):
    """The run ended; ``aborted`` with a reason on --bail, --timeout or a stop from a script."""

    started_at: float
    completed_at: float
    aborted: bool = False
    reason: str = ""
    environment: dict[str, Any] = field(default_factory=dict, compare=False)  # final values, masked
    globals: dict[str, Any] = field(default_factory=dict, compare=False)
