"""Helpers for the Newman conformance tests and the benchmark: find Newman, serve the sandbox,
run a collection with Newman and with ``o365check run`` (both as whole processes, JSON reporter and
``--export-environment``), and reduce both reports to what must agree.

Newman comes from the npm registry (``.ci/run``: ``npm install --prefix .ci newman@6``) or PATH.
Without it the tests skip with the reason; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from corpus import CORPUS, corpus_available

__all__ = [
    "ROOT",
    "CORPUS",
    "find_newman",
    "need_newman",
    "need_corpus",
    "serve_sandbox",
    "RunResult",
    "Execution",
    "run_newman",
    "run_o365check",
    "executions",
    "variable_values",
    "O365CHECK_RUN",
]

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI") == "true"
# `o365check run` as a whole process, the way a user (or CI) starts it.
O365CHECK_RUN = [sys.executable, "-m", "o365check.cli", "run"]
RUN_TIMEOUT_S = 60


def find_newman() -> str | None:
    """The newman executable: ``.ci/node_modules/.bin/newman`` (what ``.ci/run`` installs), else PATH."""
    local = ROOT / ".ci" / "node_modules" / ".bin" / "newman"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("newman")


def need_newman() -> str:
    """The newman path; skip locally when absent, fail when ``CI=true`` (CI installs it)."""
    newman = find_newman()
    if newman is None:
        reason = "newman not found in .ci/node_modules/.bin or PATH (install: npm install --prefix .ci newman@6)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return newman


def need_corpus() -> Path:
    """The shared corpus folder (tests that call this are marked ``corpus``: conftest skips or fails them)."""
    assert corpus_available(), f"mark the test `corpus`: {CORPUS} is missing"
    return CORPUS


@contextmanager
def serve_sandbox(scenario: str, environment_out: Path) -> Iterator[str]:
    """Run ``o365check sandbox serve`` as a subprocess on a free loopback port; yields its base URL.

    The server writes the Postman environment both runners use to ``environment_out``.
    """
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "o365check.cli",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--scenario",
            scenario,
            "--environment-out",
            str(environment_out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # "Sandbox scenario 'ok' serving at http://127.0.0.1:PORT"
        if " serving at " not in first:
            process.kill()
            raise AssertionError(
                f"sandbox serve did not start: {first!r} {process.stderr.read() if process.stderr else ''}"
            )
        process.stdout.readline()  # "Postman environment written to ..." (the file exists now)
        yield first.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()  # SIGTERM: the command stops its server and exits
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


@dataclass
class RunResult:
    """One whole-process run: exit code, JSON report, exported environment, console output."""

    exit_code: int
    report: dict[str, Any]
    environment: dict[str, Any] | None
    output: str

    @property
    def executions(self) -> list[Execution]:
        return executions(self.report)

    @property
    def variables(self) -> dict[str, Any]:
        return variable_values(self.environment) if self.environment else {}


def _run(command: list[str], collection: Path, args: list[str], work: Path, tag: str) -> RunResult:
    report = work / f"{tag}-report.json"
    exported = work / f"{tag}-environment.json"
    for stale in (report, exported):
        stale.unlink(missing_ok=True)
    done = subprocess.run(
        [
            *command,
            str(collection),
            *args,
            "-r",
            "json",
            "--reporter-json-export",
            str(report),
            "--export-environment",
            str(exported),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    output = done.stdout + done.stderr
    assert report.is_file(), f"{tag} wrote no JSON report (exit {done.returncode}):\n{output[-3000:]}"
    environment = json.loads(exported.read_text(encoding="utf-8")) if exported.is_file() else None
    return RunResult(done.returncode, json.loads(report.read_text(encoding="utf-8")), environment, output)


def run_newman(newman: str, collection: Path, args: list[str], work: Path) -> RunResult:
    """``newman run COLLECTION ARGS -r json --reporter-json-export F --export-environment F``."""
    return _run([newman, "run"], collection, args, work, "newman")


def run_o365check(collection: Path, args: list[str], work: Path) -> RunResult:
    """``o365check run COLLECTION ARGS -r json --reporter-json-export F --export-environment F``."""
    return _run(O365CHECK_RUN, collection, args, work, "o365check")


@dataclass(frozen=True)
class Execution:
    """What must agree between two runners for one request: the request line, status and tests."""

    name: str
    method: str
    url: str
    code: int | None
    tests: tuple[tuple[str, bool], ...] = field(default=())


def _url_text(url: Any) -> str:
    """The URL a Newman-shaped report describes, rebuilt from its components (both runners fill them)."""
    if isinstance(url, str):
        return url
    host = url.get("host") or []
    text = f"{url.get('protocol', '')}://{'.'.join(host) if isinstance(host, list) else host}"
    if url.get("port"):
        text += f":{url['port']}"
    path = url.get("path") or []
    text += "/" + "/".join(path) if isinstance(path, list) else f"/{path}"
    query = [q for q in url.get("query") or [] if not q.get("disabled")]
    if query:
        text += "?" + "&".join(
            f"{q.get('key') or ''}={q.get('value') or ''}" if q.get("value") is not None else f"{q.get('key') or ''}"
            for q in query
        )
    return text


def executions(report: dict[str, Any]) -> list[Execution]:
    """Each execution of a Newman-shaped JSON report as (item, method, URL, status, tests)."""
    found = []
    for execution in report["run"]["executions"]:
        request = execution.get("request") or {}
        response = execution.get("response") or {}
        tests = tuple(
            (a["assertion"], not a.get("error") and not a.get("skipped")) for a in execution.get("assertions") or []
        )
        found.append(
            Execution(
                (execution.get("item") or {}).get("name", ""),
                request.get("method", ""),
                _url_text(request.get("url") or ""),
                response.get("code"),
                tests,
            )
        )
    return found


def variable_values(exported: dict[str, Any]) -> dict[str, Any]:
    """The effective ``{key: value}`` of an exported environment: Newman exports every entry as it
    was given (duplicates, ``disabled: true`` ones); o365check exports the effective values only.
    Disabled entries are dropped and the last duplicate wins (runner-facts §5)."""
    return {
        v["key"]: v.get("value") for v in exported.get("values", []) if not v.get("disabled") and v.get("enabled", True)
    }
