"""The JSON reporter: Newman's report shape (runner-facts §5), streamed to the file.

Each execution is written as soon as its item completes, and failures go to a spooled temporary
file, so memory does not grow with iterations. Top keys ``collection``, ``environment``,
``globals``, ``run``; under ``run``: ``executions`` first (streamed), then ``stats``, ``timings``,
``transfers``, ``failures``, ``error``. Everything written comes from masked events.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from .. import events as ev
from ..summary import RunSummary

__all__ = ["JsonReporter", "url_object"]


def url_object(url: str) -> dict[str, Any]:
    """A URL string as postman-collection's Url JSON (protocol, host[], port, path[], query[])."""
    parts = urlsplit(url)
    return {
        "protocol": parts.scheme,
        "port": str(parts.port) if parts.port else None,
        "path": list(parts.path.split("/")[1:]) if parts.path else [],
        "host": (parts.hostname or "").split(".") if parts.hostname else [],
        "query": [{"key": k, "value": v} for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        "variable": [],
        "raw": url,
    }


class JsonReporter:
    """Writes the report to ``stream`` while the run goes on."""

    def __init__(self, stream: IO[str], summary: RunSummary, *, collection: dict[str, Any] | None = None):
        self.out, self.summary = stream, summary
        self.collection = collection or {}
        self._failures = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8")
        self._failure_count = 0
        self._execution: dict[str, Any] | None = None
        self._requests_in_item = 0
        self._executions = 0
        self._position = 0
        self._iteration = 0
        self._items = 0
        self._cycles = 0

    def _dump(self, obj: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self._items, self._cycles = event.items, event.iterations
            self.out.write('{"collection":' + self._dump(self.collection) + ',"run":{"executions":[')
        elif isinstance(event, ev.IterationStarted):
            self._iteration, self._position = event.iteration, 0
        elif isinstance(event, ev.ItemStarted):
            self._execution = {
                "cursor": {
                    "position": self._position,
                    "iteration": event.iteration,
                    "length": self._items,
                    "cycles": self._cycles,
                    "empty": False,
                    "eof": False,
                    "bof": self._position == 0,
                    "cr": False,
                    "ref": str(uuid.uuid4()),
                },
                "item": {"id": event.item_id, "name": event.item},
                "assertions": [],
            }
            self._requests_in_item = 0
        elif self._execution is None:
            if isinstance(event, ev.RunCompleted):
                self._finish(event)
            return
        elif isinstance(event, ev.RequestSent):
            self._requests_in_item += 1
            self._execution["request"] = {
                "url": url_object(event.url),
                "method": event.method,
                "header": [{"key": k, "value": v} for k, v in event.headers],
                **({"body": event.body} if event.body else {}),
            }
        elif isinstance(event, ev.ResponseReceived):
            data = event.body.encode("utf-8")
            self._execution["response"] = {
                "id": str(uuid.uuid4()),
                "status": event.status,
                "code": event.code,
                "header": [{"key": k, "value": v} for k, v in event.headers],
                "stream": {"type": "Buffer", "data": list(data)},
                "body": event.body,
                "cookie": [],
                "responseTime": event.time_ms,
                "responseSize": event.size,
            }
        elif isinstance(event, ev.RequestFailed):
            self._execution["requestError"] = {
                "name": type(event.error).__name__,
                "message": event.message,
                "kind": event.kind,
            }
            self._add_failure(type(event.error).__name__, event.message, event.item, "request")
        elif isinstance(event, (ev.TestPassed, ev.TestFailed, ev.TestSkipped)):
            entry: dict[str, Any] = {"assertion": event.name, "skipped": isinstance(event, ev.TestSkipped)}
            if isinstance(event, ev.TestFailed):
                index = len(self._execution["assertions"])
                entry["error"] = {
                    "name": "AssertionError",
                    "index": index,
                    "test": event.name,
                    "message": event.message,
                    "stack": f"AssertionError: {event.message}",
                }
                self._add_failure(
                    "AssertionError", event.message, event.item, f"assertion:{index} in test-script", test=event.name
                )
            self._execution["assertions"].append(entry)
        elif isinstance(event, ev.ScriptFailed):
            # Newman (summary.js attachReportingTrackers) keeps each script error on its execution too,
            # under `prerequestScript` / `testScript`; checksum, id and timestamp are left out (ids, times)
            error = {"type": "Error", "name": event.name, "message": event.message, "stacktrace": []}
            self._execution.setdefault(f"{event.listen}Script", []).append({"error": error})
            self._add_failure(event.name, event.message, event.item, f"{event.listen}-script")
        elif isinstance(event, ev.ScriptNotRun):
            self._add_failure("ScriptNotRun", event.reason, event.item, f"{event.listen}-script")
        elif isinstance(event, ev.ItemCompleted):
            # An item whose request was skipped (pm.execution.skipRequest) and that asserted nothing
            # has no execution in Newman's report either.
            execution = self._execution
            if (
                "request" in execution
                or "requestError" in execution
                or execution["assertions"]
                or any(key in execution for key in ("prerequestScript", "testScript"))
            ):
                execution["id"] = execution["cursor"]["ref"]
                # Newman's JSON reporter pushes the item's one execution object on every request
                # event, pm.sendRequest ones included (newman lib/run/summary.js): k requests -> k
                # identical entries showing the last request and all of the item's assertions.
                text = self._dump(execution)
                for _ in range(max(1, self._requests_in_item)):
                    self.out.write(("," if self._executions else "") + text)
                    self._executions += 1
            self._position += 1
            self._execution = None

    def _add_failure(self, name: str, message: str, item: str, at: str, test: str = "") -> None:
        failure = {
            "error": {"name": name, "message": message, "test": test, "stack": f"{name}: {message}"},
            "at": at,
            "source": {"name": item},
            "parent": {"name": self.summary.collection},
            "cursor": {"position": self._position, "iteration": self._iteration},
        }
        self._failures.write(("," if self._failure_count else "") + self._dump(failure))
        self._failure_count += 1

    def _finish(self, event: ev.RunCompleted) -> None:
        s = self.summary
        timings = {
            "responseAverage": s.response_average,
            "responseMin": s.response_min,
            "responseMax": s.response_max,
            "responseSd": s.response_sd,
            "dnsAverage": 0,
            "dnsMin": 0,
            "dnsMax": 0,
            "dnsSd": 0,
            "firstByteAverage": 0,
            "firstByteMin": 0,
            "firstByteMax": 0,
            "firstByteSd": 0,
            "started": int(event.started_at * 1000),
            "completed": int(event.completed_at * 1000),
        }
        self.out.write('],"stats":' + self._dump(s.stats) + ',"timings":' + self._dump(timings))
        self.out.write(',"transfers":' + self._dump({"responseTotal": s.response_total_bytes}) + ',"failures":[')
        self._failures.seek(0)
        while chunk := self._failures.read(1 << 16):
            self.out.write(chunk)
        error = {"message": event.reason} if event.aborted else None
        self.out.write('],"error":' + self._dump(error) + "}")
        self.out.write(
            ',"environment":' + self._dump(event.environment) + ',"globals":' + self._dump(event.globals) + "}\n"
        )
        self.out.flush()

    def close(self) -> None:
        self._failures.close()
