"""o365check run vs Newman vs a bare requests loop, whole process, against one loopback sandbox.

Each round runs every (collection, iterations, runner) case once, alternating, so drift on the
shared machine hits all runners alike; the table shows medians. Issue 3's targets: o365check's wall
time at most 1/2 of Newman's for 1 iteration and 1/3 for 100, peak memory at most 1/2 of Newman's,
and at most 2x the bare loop.

    python bench/runner_vs_newman.py [--rounds 5] [--iterations 1,100] [--json]

Collections: ``scripts`` is the guide's collection as shipped (a test script on each request; the
first stores the token); ``no-scripts`` is the same two requests with the scripts stripped and the
token put in the environment beforehand; ``libraries`` is ``scripts`` with a test using moment,
lodash and CryptoJS added to each test script (the sandbox library bundles). Wall time is measured around the whole process (start-up
included); peak memory is the kernel's high-water mark for the process (``ru_maxrss`` from
``os.wait4``), not a sampled value. Both runners use their console reporter (output discarded).
Newman is found in ``.ci/node_modules/.bin`` (``.ci/run`` installs it) or on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "collections" / "office365-sendmail.postman_collection.json"
TARGETS = {"vs_newman_1": 1 / 2, "vs_newman_many": 1 / 3, "memory_vs_newman": 1 / 2, "vs_bare": 2.0}

# The floor: the same two requests per iteration, with nothing but requests (whole process too).
BARE_LOOP = """
import json, sys, requests
env = {v["key"]: v["value"] for v in json.load(open(sys.argv[1]))["values"]}
session = requests.Session()
for _ in range(int(sys.argv[2])):
    token = session.post(f"{env['login_base']}/{env['tenant_id']}/oauth2/v2.0/token", data={
        "client_id": env["client_id"], "client_secret": env["client_secret"],
        "scope": "https://graph.microsoft.com/.default", "grant_type": "client_credentials"}).json()["access_token"]
    message = {"message": {"subject": "bench", "body": {"contentType": "Text", "content": "bench"},
               "toRecipients": [{"emailAddress": {"address": env["recipient"]}}]}, "saveToSentItems": "true"}
    sent = session.post(f"{env['graph_base']}/v1.0/users/{env['sender']}/sendMail", json=message,
                        headers={"Authorization": f"Bearer {token}"})
    assert sent.status_code == 202, sent.status_code
"""


@dataclass
class Sample:
    seconds: float
    peak_mib: float


def find_newman() -> str:
    local = ROOT / ".ci" / "node_modules" / ".bin" / "newman"
    found = str(local) if local.is_file() else shutil.which("newman")
    if not found:
        raise SystemExit("newman not found: npm install --silent --no-audit --no-fund --prefix .ci newman@6")
    return found


def o365check_command() -> list[str]:
    script = Path(sys.executable).with_name("o365check")
    return [str(script)] if script.exists() else [sys.executable, "-m", "o365check.cli"]


def measure(command: list[str], work: Path) -> Sample:
    """Run ``command`` to completion; wall time and the kernel's peak RSS of that process."""
    with open(work / "stderr.txt", "w+b") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)  # reaps it: the rusage is this process's own
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(command)} exited {process.returncode}: {err.read().decode()[-800:]}")
    return Sample(seconds, usage.ru_maxrss / 1024)  # Linux reports KiB


def start_sandbox(environment: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            *o365check_command(),
            "sandbox",
            "serve",
            "--port",
            "0",
            "--scenario",
            "ok",
            "--environment-out",
            str(environment),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if " serving at " not in first:
        process.kill()
        raise SystemExit(f"sandbox did not start: {first!r}")
    process.stdout.readline()  # the environment is written
    return process, first.rsplit(" ", 1)[1].strip()


def prepare_no_scripts(environment: Path, work: Path) -> tuple[Path, Path]:
    """The guide's collection without scripts, and an environment already holding a token."""
    collection = json.loads(GUIDE.read_text(encoding="utf-8"))
    for item in collection["item"]:
        item.pop("event", None)
    stripped = work / "no-scripts.postman_collection.json"
    stripped.write_text(json.dumps(collection), encoding="utf-8")
    env = json.loads(environment.read_text(encoding="utf-8"))
    values = {v["key"]: v["value"] for v in env["values"]}
    answer = requests.post(
        f"{values['login_base']}/{values['tenant_id']}/oauth2/v2.0/token",
        timeout=10,
        data={
            "client_id": values["client_id"],
            "client_secret": values["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
            "grant_type": "client_credentials",
        },
    )
    answer.raise_for_status()
    env["values"].append(
        {"key": "access_token", "value": answer.json()["access_token"], "type": "secret", "enabled": True}
    )
    with_token = work / "with-token.postman_environment.json"
    with_token.write_text(json.dumps(env), encoding="utf-8")
    return stripped, with_token


# Appended to each test script of the guide's collection for the "libraries" case: what the sandbox
# libraries cost (bundles evaluated once per run, before the first script that names them).
LIBRARY_LINES = [
    "const moment = require('moment');",
    "const lodash = require('lodash');",
    "pm.test('sandbox libraries', () => {",
    "    pm.expect(moment.utc(0).add(1, 'day').format('YYYY-MM-DD')).to.equal('1970-01-02');",
    "    pm.expect(lodash.get({ a: { b: [1, 2] } }, 'a.b[1]')).to.equal(2);",
    "    pm.expect(CryptoJS.SHA256(pm.info.requestName).toString()).to.have.lengthOf(64);",
    "});",
]


def prepare_libraries(work: Path) -> Path:
    """The guide's collection whose test scripts also use moment, lodash and CryptoJS."""
    collection = json.loads(GUIDE.read_text(encoding="utf-8"))
    for item in collection["item"]:
        for event in item.get("event", []):
            if event.get("listen") == "test":
                event["script"]["exec"] = [*event["script"]["exec"], *LIBRARY_LINES]
    path = work / "libraries.postman_collection.json"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", default="1,100", help="comma-separated iteration counts")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    counts = [int(n) for n in args.iterations.split(",")]
    newman, ours = find_newman(), o365check_command()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        environment = work / "sandbox.postman_environment.json"
        server, _ = start_sandbox(environment)
        try:
            stripped, with_token = prepare_no_scripts(environment, work)
            bare_script = work / "bare.py"
            bare_script.write_text(BARE_LOOP, encoding="utf-8")
            collections = {
                "scripts": (GUIDE, environment),
                "no-scripts": (stripped, with_token),
                "libraries": (prepare_libraries(work), environment),
            }
            cases: dict[tuple[str, int, str], list[str]] = {}
            for n in counts:
                cases[("-", n, "bare requests")] = [sys.executable, str(bare_script), str(environment), str(n)]
                for name, (collection, env) in collections.items():
                    common = [str(collection), "-e", str(env), "-n", str(n), "-r", "cli"]
                    cases[(name, n, "newman")] = [newman, "run", *common, "--color", "off"]
                    cases[(name, n, "o365check")] = [*ours, "run", *common, "--no-color"]
            for command in cases.values():  # warm the file cache once
                measure(command, work)
            samples: dict[tuple[str, int, str], list[Sample]] = {key: [] for key in cases}
            for _ in range(args.rounds):
                for key, command in cases.items():
                    samples[key].append(measure(command, work))
        finally:
            server.terminate()
            server.wait(10)

    results = summarise(samples, counts)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(render(results, args.rounds))
    return 0 if all(row["meets_targets"] for row in results["comparisons"]) else 1


def summarise(samples: dict[tuple[str, int, str], list[Sample]], counts: list[int]) -> dict:
    medians = {
        key: {
            "seconds": statistics.median(s.seconds for s in values),
            "peak_mib": statistics.median(s.peak_mib for s in values),
        }
        for key, values in samples.items()
    }
    rows = [
        {
            "collection": c,
            "iterations": n,
            "runner": r,
            "median_s": round(m["seconds"], 3),
            "peak_mib": round(m["peak_mib"], 1),
        }
        for (c, n, r), m in medians.items()
    ]
    comparisons = []
    for collection in ("no-scripts", "scripts", "libraries"):
        for n in counts:
            mine, theirs, bare = (
                medians[(collection, n, "o365check")],
                medians[(collection, n, "newman")],
                medians[("-", n, "bare requests")],
            )
            time_ratio = mine["seconds"] / theirs["seconds"]
            memory_ratio = mine["peak_mib"] / theirs["peak_mib"]
            bare_ratio = mine["seconds"] / bare["seconds"]
            time_target = TARGETS["vs_newman_1"] if n == 1 else TARGETS["vs_newman_many"]
            comparisons.append(
                {
                    "collection": collection,
                    "iterations": n,
                    "time_vs_newman": round(time_ratio, 2),
                    "time_target": round(time_target, 2),
                    "memory_vs_newman": round(memory_ratio, 2),
                    "time_vs_bare": round(bare_ratio, 2),
                    "meets_targets": time_ratio <= time_target
                    and memory_ratio <= TARGETS["memory_vs_newman"]
                    and bare_ratio <= TARGETS["vs_bare"],
                }
            )
    return {"runs": rows, "comparisons": comparisons}


def render(results: dict, rounds: int) -> str:
    lines = [
        f"medians of {rounds} alternating rounds; peak RSS = ru_maxrss of the process",
        "",
        "| collection | iterations | runner | wall time (s) | peak RSS (MiB) |",
        "|---|---:|---|---:|---:|",
    ]
    for row in results["runs"]:
        lines.append(
            f"| {row['collection']} | {row['iterations']} | {row['runner']} | {row['median_s']:.3f} | {row['peak_mib']:.1f} |"
        )
    lines += [
        "",
        "| collection | iterations | time o365check/Newman (target) | memory o365check/Newman (target 0.5) "
        "| time o365check/bare (target 2) | all met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for c in results["comparisons"]:
        lines.append(
            f"| {c['collection']} | {c['iterations']} | {c['time_vs_newman']:.2f} (<= {c['time_target']:.2f}) "
            f"| {c['memory_vs_newman']:.2f} | {c['time_vs_bare']:.2f} | {'yes' if c['meets_targets'] else 'NO'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
