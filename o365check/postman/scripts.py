"""Run Postman pre-request and test scripts in an embedded JavaScript engine.

Engine choice (judged 2026 on this project's needs; py3.11 manylinux wheels for all listed):

* **mini-racer 0.14** (chosen): a maintained V8 build (releases through 2026). A bare V8 isolate
  has no ``require``, ``process``, ``fetch``, ``XMLHttpRequest`` or file API, so scripts cannot
  touch files or sockets. Per-call timeout (``timeout_sec``, V8 TerminateExecution; the context
  stays usable) and a hard heap limit per isolate (``set_hard_memory_limit``). Modern JS (arrow
  functions, template literals, async/await, as real collections use). Measured here: import
  ~75 ms; a ScriptEngine (isolate + our JS) ~40 ms, ~15 ms for later ones; a small script ~1 ms.
  Limitation: Python callbacks are
  *async only* (``wrap_py_function`` returns a Promise), so ``pm.sendRequest`` cannot call
  Python synchronously; see below.
* quickjs 1.19 (last release 2023-11): time and memory limits and synchronous Python callables,
  but it refuses to call into Python while a time limit is set ("Can not call into Python with a
  time limit set"), so the limit and ``pm.sendRequest`` exclude each other; slower interpreter.
* dukpy 0.6: ES5 only (the corpus uses arrow functions and template literals); no time or memory
  limit. js2py: pure-Python ES5 interpreter, unmaintained, slow, no limits.
* pythonmonkey 1.x: SpiderMonkey built for *interop*: JS gets ``python.*`` and a CommonJS
  ``require`` with file access, the opposite of the isolation we need; large wheels.
* stpyv8: V8 too, with synchronous callbacks, but no built-in memory limit and heavier builds.

How ``pm.sendRequest`` works: the script runs to completion (as in Postman, where the callback
always runs after the current script body); the call only queues the request. Python then
performs each queued request with the runner's ``send_request`` and re-enters the isolate to run
its callback (or resolve its Promise, so ``await pm.sendRequest(...)`` works), repeating until no
request or timer is pending. ``setTimeout`` callbacks are run in due order without really waiting.

One isolate per ``ScriptEngine`` (one per collection run); every script runs as its own function,
so ``var`` declarations do not leak between scripts. The JavaScript lives in ``postman/js/``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable

from py_mini_racer import JSOOMException, JSParseException, JSTimeoutException, MiniRacer

__all__ = ["ScriptContext", "ScriptEngine", "ScriptFailure", "ScriptOutcome", "ScriptTest", "SCOPE_NAMES"]

SCOPE_NAMES = ("globals", "collectionVariables", "environment", "iterationData", "local")

# The script's parameters, in the order pm.js `begin()` returns their values.
SCRIPT_PARAMETERS = (
    "pm", "postman", "tests", "console",
    "responseBody", "responseCode", "responseHeaders", "responseTime", "responseCookies",
    "request", "globals", "environment", "data", "iteration",
    "setTimeout", "clearTimeout", "require",
    "_", "CryptoJS", "tv4", "xml2Json", "cheerio", "moment", "atob", "btoa",
    "XMLHttpRequest", "fetch", "process",
)
_JS_FILES = ("expect.js", "pm.js")  # order matters: pm.js builds on expect.js
_SCRIPT_URL = "script.js"  # stack frames of user code carry this name, so we can find its line
_PARSE_LINE = re.compile(r"^(?:" + re.escape(_SCRIPT_URL) + r"|<anonymous>):(\d+): SyntaxError")  # V8 omits sourceURL on some parse errors
_FINISH_TIMEOUT_S = 5.0  # collecting the outcome is our own code; bounded anyway
_MAX_CALLBACKS = 10_000  # timers/requests one script may chain; stops setTimeout loops with no time limit


@dataclass
class ScriptContext:
    """What a script sees: its event, the request (and response for test scripts), the scopes."""

    listen: str  # "prerequest" | "test"
    info: dict[str, Any]  # eventName, iteration, iterationCount, requestName, requestId
    request: dict[str, Any]  # url, method, headers [{key, value}], body
    response: dict[str, Any] | None = None  # code, status, headers, body, responseTime, responseSize
    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ScriptTest:
    """One ``pm.test`` (or legacy ``tests[...]``) result; ``error`` is Chai's failure message."""

    name: str
    passed: bool
    skipped: bool = False
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True when the test ran and did not pass (a skipped test is neither passed nor failed)."""
        return not self.passed and not self.skipped


@dataclass
class ScriptFailure:
    """An uncaught error that stopped a script: JS error name, message and line within the source."""

    name: str
    message: str
    line: int | None


@dataclass
class ScriptOutcome:
    """Everything a script did; ``console`` is unmasked, the runner masks it before showing it."""

    tests: list[ScriptTest]
    console: list[tuple[str, str]]
    scopes: dict[str, dict[str, Any]]
    request: dict[str, Any]
    next_request: str | None = None
    next_request_set: bool = False
    skip_request: bool = False
    error: ScriptFailure | None = None


SendRequest = Callable[[dict[str, Any]], dict[str, Any]]


class _ScriptStopped(Exception):
    """The isolate ended the script (time or memory limit); carries the failure to report."""

    def __init__(self, failure: ScriptFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _load_javascript() -> list[tuple[str, str]]:
    folder = resources.files("o365check.postman") / "js"
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in _JS_FILES]


def _asyncio_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class ScriptEngine:
    """One isolated V8 context for a whole run; ``run`` executes one script in it.

    ``timeout_ms`` limits the JavaScript time of each script (``--timeout-script``; None = no
    limit, as in Newman). ``memory_mb`` is the isolate's hard heap limit. ``send_request``
    performs ``pm.sendRequest`` calls; without it they fail with a named error.
    """

    def __init__(self, timeout_ms: int | None = None, send_request: SendRequest | None = None,
                 memory_mb: int = 128) -> None:
        if timeout_ms is not None and timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be a positive number of milliseconds or None, got {timeout_ms!r}")
        if memory_mb < 16:
            raise ValueError(f"memory_mb must be at least 16 (V8 needs room to start), got {memory_mb!r}")
        self.timeout_ms = timeout_ms
        self.memory_mb = memory_mb
        self._send_request = send_request
        self._sources = _load_javascript()
        self._racer: MiniRacer | None = None
        # mini-racer refuses timed evals on a thread with a running asyncio loop (a Jupyter kernel's
        # main thread always has one), and an isolate made on such a thread deadlocks when used from
        # another: under a running loop, the isolate lives and runs on one worker thread of its own.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="o365check-js") if _asyncio_loop_running() else None
        self._on_isolate_thread(self._start_isolate)

    # -- lifecycle ---------------------------------------------------------------------------
    def _start_isolate(self) -> None:
        racer = MiniRacer()
        racer.set_hard_memory_limit(self.memory_mb * 1024 * 1024)
        for name, source in self._sources:
            racer.eval(f"{source}\n//# sourceURL={name}")
        self._racer = racer
        self._compiled: dict[str, int | ScriptFailure] = {}  # source -> its function's slot in this isolate
        # An isolate left open after a memory-limit stop makes interpreter exit hang (seen with
        # mini-racer 0.14), so every isolate is closed at the latest when the engine is collected.
        self._closer = weakref.finalize(self, racer.close)

    def _restart_isolate(self) -> None:
        """After a memory-limit stop V8 may stay over its limit; a fresh isolate is cheap (~3 ms)."""
        self._closer()  # already on the isolate's thread: close only the isolate, keep the worker
        self._racer = None
        self._start_isolate()

    def close(self) -> None:
        """Free the isolate. The engine cannot run scripts afterwards."""
        if self._racer is not None:
            self._on_isolate_thread(self._closer)
            self._racer = None
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None

    def _on_isolate_thread(self, call: Callable[..., Any], *args: Any) -> Any:
        if self._worker is not None:
            return self._worker.submit(call, *args).result()
        if _asyncio_loop_running():  # made outside a loop, used inside one: any plain thread will do
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="o365check-js") as worker:
                return worker.submit(call, *args).result()
        return call(*args)

    def __enter__(self) -> ScriptEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- running -----------------------------------------------------------------------------
    def run(self, source: str, context: ScriptContext) -> ScriptOutcome:
        """Run one script; errors in the script become ``outcome.error``, never exceptions."""
        return self._on_isolate_thread(self._run, source, context)

    def _run(self, source: str, context: ScriptContext) -> ScriptOutcome:
        if self._racer is None:
            raise RuntimeError("ScriptEngine.run() called after close(); create a new ScriptEngine")
        if context.listen not in ("prerequest", "test"):
            raise ValueError(f"ScriptContext.listen must be 'prerequest' or 'test', got {context.listen!r}")
        deadline = None if self.timeout_ms is None else time.monotonic() + self.timeout_ms / 1000
        begin = f"__o365.args = __o365.begin({json.dumps(self._context_payload(context))});"
        failure: ScriptFailure | None = None
        try:
            compiled = self._compile(source)
            if isinstance(compiled, ScriptFailure):
                self._eval(f"{begin} undefined", None)
                failure = compiled
            else:
                # One call into V8 sets up pm.* and runs the script: each eval is a thread hop
                # (~0.3 ms), which showed in the benchmark at 100 iterations (bench/README.md).
                self._eval(f"{begin} __o365.runScript(__o365.compiled[{compiled}], __o365.args)", deadline)
                self._drain_work(deadline)
        except _ScriptStopped as stopped:
            failure = stopped.failure
            if isinstance(stopped.__cause__, JSOOMException):
                self._restart_isolate()
                return self._outcome_without_changes(context, failure)
        return self._finish(context, failure)

    def _context_payload(self, context: ScriptContext) -> dict[str, Any]:
        scopes = {name: dict(context.scopes.get(name) or {}) for name in SCOPE_NAMES}
        return {"listen": context.listen, "info": context.info, "request": context.request,
                "response": context.response, "scopes": scopes}

    def _compile(self, source: str) -> int | ScriptFailure:
        """The slot of ``source``'s function in the isolate (compiled once per run), or its SyntaxError."""
        if source in self._compiled:
            return self._compiled[source]
        slot = len(self._compiled)
        # The wrapper's head shares line 1 with the script, so JS line numbers are the script's.
        wrapped = (f"(__o365.compiled = __o365.compiled || [])[{slot}] = async function "
                   f"({', '.join(SCRIPT_PARAMETERS)}) {{{source}\n}}; undefined\n//# sourceURL={_SCRIPT_URL}")
        try:
            self._eval(wrapped, None)
            result: int | ScriptFailure = slot
        except JSParseException as exc:
            text = str(exc)
            match = _PARSE_LINE.search(text)
            summary = next((ln for ln in text.splitlines() if "SyntaxError" in ln), text.strip())
            message = summary.split("SyntaxError:", 1)[-1].strip()
            result = ScriptFailure("SyntaxError", message, int(match.group(1)) if match else None)
        self._compiled[source] = result
        return result

    def _drain_work(self, deadline: float | None) -> None:
        """Perform queued pm.sendRequest calls and timers, re-entering JS for each callback."""
        for _ in range(_MAX_CALLBACKS):
            if deadline is not None and time.monotonic() >= deadline:
                raise _ScriptStopped(self._timeout_failure())
            work = json.loads(self._eval("__o365.takeWork()", deadline))
            if work is None:
                return
            if "timer" in work:
                self._eval(f"__o365.fireTimer({int(work['timer'])})", deadline)
                continue
            for queued in work["requests"]:
                started = time.monotonic()
                error, response = self._perform(queued["request"])
                if deadline is not None:  # time waiting on the network is not script time
                    deadline += time.monotonic() - started
                self._eval(f"__o365.deliverResponse({int(queued['id'])}, {json.dumps(error)}, {json.dumps(response)})",
                           deadline)
        raise _ScriptStopped(ScriptFailure(
            "RangeError", f"script scheduled more than {_MAX_CALLBACKS} callbacks (setTimeout or pm.sendRequest loop?)",
            None))

    def _timeout_failure(self) -> ScriptFailure:
        return ScriptFailure("TimeoutError", f"script ran longer than the time limit of {self.timeout_ms} ms "
                             "(raise it with --timeout-script, or look for an endless loop)", None)

    def _perform(self, request: dict[str, Any]) -> tuple[dict[str, str] | None, dict[str, Any] | None]:
        if self._send_request is None:
            return {"name": "NotSupportedError", "message": "pm.sendRequest is not available in this run"}, None
        try:
            return None, self._send_request(request)
        except Exception as exc:  # the script sees the failure as callback(err), as in Postman
            return {"name": type(exc).__name__, "message": str(exc)}, None

    def _eval(self, code: str, deadline: float | None) -> Any:
        assert self._racer is not None
        timeout_s = None
        if deadline is not None:
            timeout_s = max(deadline - time.monotonic(), 0.001)
        try:
            return self._racer.eval(code, timeout_sec=timeout_s)
        except JSTimeoutException as exc:
            raise _ScriptStopped(self._timeout_failure()) from exc
        except JSOOMException as exc:
            raise _ScriptStopped(ScriptFailure(
                "RangeError",
                f"script used more than the memory limit of {self.memory_mb} MB", None)) from exc

    def _finish(self, context: ScriptContext, failure: ScriptFailure | None) -> ScriptOutcome:
        raw = json.loads(self._racer.eval("__o365.finish()", timeout_sec=_FINISH_TIMEOUT_S))  # type: ignore[union-attr]
        error = raw["error"]
        return ScriptOutcome(
            tests=[ScriptTest(t["name"], bool(t["passed"]), bool(t["skipped"]), t["error"]) for t in raw["tests"]],
            console=[(level, text) for level, text in raw["console"]],
            scopes=raw["scopes"],
            request=raw["request"],
            next_request=raw["nextRequest"],
            next_request_set=bool(raw["nextRequestSet"]),
            skip_request=bool(raw["skipRequest"]),
            # A compile or limit failure seen by Python wins over what JS recorded before it.
            error=failure or (ScriptFailure(error["name"], error["message"], error["line"]) if error else None),
        )

    def _outcome_without_changes(self, context: ScriptContext, failure: ScriptFailure) -> ScriptOutcome:
        scopes = {name: dict(context.scopes.get(name) or {}) for name in SCOPE_NAMES}
        return ScriptOutcome(tests=[], console=[], scopes=scopes, request=dict(context.request), error=failure)
