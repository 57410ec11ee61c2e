"""Differential test: run one collection with Newman (twice) and with ``o365check run`` against the
loopback echo proxy, and compare what each did (issue 10 item 5).

Compared, per collection: the requests the server received (method, URL, the headers that matter,
body), the status codes, the assertions by item, name and result, the script errors, the exported
environment and globals, and ``run.stats``. Whatever differs between Newman's two runs (random
data, times, nonces) is noise and is left out of the comparison. Deliberate differences are turned
off for the comparison by options (``--allow-secret-to`` each host Newman reached, ``--export-secrets``;
README "Deliberate differences").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .echo_proxy import EchoProxy, ReceivedRequest

__all__ = ["Case", "Comparison", "RunOutput", "compare_case", "find_newman", "observe"]

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 120
# Headers that say nothing about the collection: transport framing and the proxy hop.
IGNORED_HEADERS = frozenset(
    {"host", "content-length", "connection", "proxy-connection", "accept-encoding", "transfer-encoding", "te"}
)
CATEGORIES = ("requests", "statuses", "assertions", "script_errors", "variables", "stats")
_BOUNDARY = re.compile(r"boundary=([^\s;]+)")


def find_newman() -> str | None:
    """``$NEWMAN``, else ``.ci/node_modules/.bin/newman`` (what ``.ci/run`` installs), else PATH."""
    if os.environ.get("NEWMAN"):
        return os.environ["NEWMAN"]
    local = ROOT / ".ci" / "node_modules" / ".bin" / "newman"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("newman")


@dataclass(frozen=True)
class Case:
    """One collection and the files it runs with (paths already on disk)."""

    name: str
    collection: Path
    environment: Path | None = None
    globals: Path | None = None
    data: Path | None = None
    iterations: int | None = None

    def file_args(self) -> list[str]:
        args: list[str] = []
        for flag, path in (("-e", self.environment), ("-g", self.globals), ("-d", self.data)):
            if path is not None:
                args += [flag, str(path)]
        if self.iterations:
            args += ["-n", str(self.iterations)]
        return args


@dataclass
class RunOutput:
    """What one runner did: the server's log for its run, its report and exports, cost."""

    runner: str
    exit_code: int
    requests: list[ReceivedRequest]
    report: dict[str, Any] | None
    environment: dict[str, Any] | None
    wall_s: float
    peak_rss_mib: float
    output: str = ""


# GNU time reports the runner's own peak RSS. ru_maxrss of a child forked from this process would
# start at this process's size (the kernel keeps the pre-exec high-water mark), hiding small runners.
GNU_TIME = "/usr/bin/time"


def _run_measured(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, float, float, str]:
    """Run ``command``; return exit code, wall seconds, peak RSS (MiB) of that process, output tail."""
    started = time.perf_counter()
    rss_file = cwd / f".rss-{time.monotonic_ns()}"
    if os.access(GNU_TIME, os.X_OK):
        command = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *command]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        deadline = started + RUN_TIMEOUT_S
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()[-4000:].decode("utf-8", "replace")
    peak_kib = float(usage.ru_maxrss)
    try:
        peak_kib = float(rss_file.read_text().split()[-1])
        rss_file.unlink()
    except (OSError, ValueError, IndexError):
        pass
    return process.returncode, wall, peak_kib / 1024, output


def _proxy_env(proxy: EchoProxy) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env[name] = proxy.url
    env["NO_COLOR"] = "1"
    return env


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_newman(newman: str, case: Case, proxy: EchoProxy, work: Path, tag: str) -> RunOutput:
    report, env_out = work / f"newman-{tag}.json", work / f"newman-{tag}-env.json"
    command = [
        newman,
        "run",
        str(case.collection),
        *case.file_args(),
        "-r",
        "json",
        "--reporter-json-export",
        str(report),
        "--export-environment",
        str(env_out),
        "--insecure",
        "--timeout-request",
        "10000",
    ]
    mark = proxy.mark()
    code, wall, rss, output = _run_measured(command, _proxy_env(proxy), work)
    return RunOutput("newman", code, proxy.since(mark), _read_json(report), _read_json(env_out), wall, rss, output)


def run_o365check(case: Case, proxy: EchoProxy, work: Path, allow_hosts: set[str]) -> RunOutput:
    report, env_out = work / "ours.json", work / "ours-env.json"
    command = [
        sys.executable,
        "-m",
        "o365check.cli",
        "run",
        str(case.collection),
        *case.file_args(),
        "-r",
        "json",
        "--reporter-json-export",
        str(report),
        "--export-environment",
        str(env_out),
        "--export-secrets",
        "--insecure",
        "--timeout-request",
        "10000",
    ]
    for host in sorted(allow_hosts):
        command += ["--allow-secret-to", host]
    mark = proxy.mark()
    code, wall, rss, output = _run_measured(command, _proxy_env(proxy), work)
    return RunOutput("o365check", code, proxy.since(mark), _read_json(report), _read_json(env_out), wall, rss, output)


# -- what is compared --------------------------------------------------------------------------


def _request_view(request: ReceivedRequest) -> dict[str, Any]:
    headers: dict[str, str] = {}
    boundary = None
    for key, value in request.headers:
        name = key.lower()
        if name in IGNORED_HEADERS:
            continue
        if name == "content-type" and (found := _BOUNDARY.search(value)):
            boundary = found.group(1).strip('"')
            value = value.replace(found.group(1), "BOUNDARY")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    body = request.body.decode("utf-8", "replace")
    if boundary:
        body = body.replace(boundary, "BOUNDARY")
    return {
        "method": request.method,
        "url": _URLLIB3_ESCAPES.sub(_unescape, request.url),
        "headers": headers,
        "body": body,
    }


# urllib3 percent-encodes these in every path and query; Newman sends them raw. Servers decode both the
# same; docs/newman-differences.md lists it. Everything else in the URL is compared byte for byte.
_URLLIB3_ESCAPES = re.compile(r"%(7B|7D|5B|5D|7C|5E|60)", re.IGNORECASE)


def _unescape(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def _values(document: Any) -> dict[str, Any] | None:
    if not isinstance(document, dict) or not isinstance(document.get("values"), list):
        return None
    return {
        str(v.get("key")): v.get("value")
        for v in document["values"]
        if isinstance(v, dict) and not v.get("disabled") and v.get("enabled", True) is not False
    }


def observe(run: RunOutput) -> dict[str, Any]:
    """The comparable facts of one run, as plain JSON-able data."""
    report: dict[str, Any] = run.report or {}
    raw_run: dict[str, Any] = report["run"] if isinstance(report.get("run"), dict) else {}
    executions = [e for e in raw_run.get("executions") or [] if isinstance(e, dict)]
    statuses, assertions = [], []
    for execution in executions:
        name = (execution.get("item") or {}).get("name")
        response = execution.get("response")
        statuses.append([name, response.get("code") if isinstance(response, dict) else None])
        for assertion in execution.get("assertions") or []:
            state = "skipped" if assertion.get("skipped") else "failed" if assertion.get("error") else "passed"
            assertions.append([name, assertion.get("assertion"), state])
    script_errors = []
    for failure in raw_run.get("failures") or []:
        error = failure.get("error") or {}
        at = str(failure.get("at") or "")
        if error.get("name") == "AssertionError" or not at.endswith("-script"):
            continue
        script_errors.append([(failure.get("source") or {}).get("name"), at, error.get("name"), error.get("message")])
    stats = raw_run.get("stats")
    return {
        "requests": [_request_view(r) for r in run.requests],
        "statuses": statuses,
        "assertions": assertions,
        "script_errors": script_errors,
        "variables": {
            "environment": _values(run.environment) or {},
            "globals": _values(report.get("globals")) or {},
        },
        "stats": stats if isinstance(stats, dict) else None,
    }


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {f"{prefix}#keys": sorted(value)} if prefix.count("/") < 1 else {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}/{key}"))
        return out if value else {prefix: {}}
    if isinstance(value, list):
        out = {f"{prefix}#len": len(value)}
        for index, inner in enumerate(value):
            out.update(_flatten(inner, f"{prefix}/{index}"))
        return out
    return {prefix: value}


@dataclass
class Comparison:
    """The outcome for one collection; ``differences`` per category (empty: identical)."""

    case: str
    differences: dict[str, list[tuple[str, Any, Any]]] = field(default_factory=dict)
    noise: int = 0
    newman_exit: int = 0
    ours_exit: int = 0
    newman_wall_s: float = 0.0
    ours_wall_s: float = 0.0
    newman_rss_mib: float = 0.0
    ours_rss_mib: float = 0.0
    error: str = ""

    @property
    def identical(self) -> bool:
        return not self.error and not any(self.differences.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "identical": self.identical,
            "error": self.error,
            "differences": {k: [list(d) for d in v] for k, v in self.differences.items() if v},
            "noise_masked": self.noise,
            "exit": {"newman": self.newman_exit, "o365check": self.ours_exit},
            "wall_s": {"newman": round(self.newman_wall_s, 3), "o365check": round(self.ours_wall_s, 3)},
            "peak_rss_mib": {"newman": round(self.newman_rss_mib, 1), "o365check": round(self.ours_rss_mib, 1)},
        }


def diff_observations(first: dict[str, Any], second: dict[str, Any], ours: dict[str, Any]) -> Comparison:
    """Differences between Newman's first run and ours, minus what differed between Newman's two."""
    comparison = Comparison("")
    for category in CATEGORIES:
        a, b, c = (_flatten(o.get(category), category) for o in (first, second, ours))
        noisy = {k for k in a.keys() | b.keys() if a.get(k, "<absent>") != b.get(k, "<absent>")}
        comparison.noise += len(noisy)
        comparison.differences[category] = [
            (key, a.get(key, "<absent>"), c.get(key, "<absent>"))
            for key in sorted(a.keys() | c.keys())
            if key not in noisy and a.get(key, "<absent>") != c.get(key, "<absent>")
        ] + [  # a value that varies must still be there (e.g. Postman-Token) or absent in both
            (key, "<varies>", c.get(key, "<absent>")) for key in sorted(noisy) if key in a and key in b and key not in c
        ]
    return comparison


def compare_case(newman: str, case: Case, proxy: EchoProxy, work: Path) -> Comparison:
    """Run ``case`` with Newman twice and with o365check once; compare."""
    work.mkdir(parents=True, exist_ok=True)
    first = run_newman(newman, case, proxy, work, "1")
    second = run_newman(newman, case, proxy, work, "2")
    hosts = {(urlsplit(r.url).hostname or "") for r in first.requests + second.requests} - {""}
    ours = run_o365check(case, proxy, work, hosts)
    comparison = diff_observations(observe(first), observe(second), observe(ours))
    comparison.case = case.name
    comparison.newman_exit, comparison.ours_exit = first.exit_code, ours.exit_code
    comparison.newman_wall_s, comparison.ours_wall_s = first.wall_s, ours.wall_s
    comparison.newman_rss_mib, comparison.ours_rss_mib = first.peak_rss_mib, ours.peak_rss_mib
    if first.report is None:
        comparison.error = f"Newman wrote no report (exit {first.exit_code}): {first.output[-300:]}"
    elif ours.report is None:
        comparison.error = f"o365check wrote no report (exit {ours.exit_code}): {ours.output[-600:]}"
    elif (first.exit_code == 0) != (ours.exit_code == 0):
        comparison.differences.setdefault("exit", []).append(("exit", first.exit_code, ours.exit_code))
    return comparison
