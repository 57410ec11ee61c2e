"""Long runs: the guide's collection for 1,000 and 10,000 iterations against the sandbox.

Issue 9 item 6: time must be linear in iterations and memory flat (masking used to register one
access token per iteration and slow down quadratically). Each run is a child process that runs the
collection exactly as ``o365check run C -e E -n N`` does against one ``o365check sandbox serve``
on a loopback port (its own process, so the sandbox's outbox is not counted; the console reporter
writes to /dev/null) and prints, every ``--block`` iterations, the seconds that
block took (wall and CPU) and the resident set size at its end. The parent reports, per run, the wall time, the
kernel's peak RSS (``ru_maxrss`` from ``os.wait4``), the first and last block times and their ratio.

    python bench/long_run.py [--iterations 1000,10000] [--block 1000] [--json]

Exit code 0 when the targets hold: the last block's CPU time at most 1.5x the first block's (no growth per
iteration), the 10k run at most 12x the 1k run, and the peak RSS of the longest run at most 20 MiB
above the shortest's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = sorted((ROOT / "collections").glob("office365-sendmail*.postman_collection.json"))
MAX_BLOCK_GROWTH = 1.5
MAX_RSS_GROWTH_MIB = 20.0


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(collection: str, environment_path: str, iterations: int, block: int) -> None:
    """Run as ``o365check run C -e E -n N`` does; print one JSON line per block of iterations."""
    sys.path.insert(0, str(ROOT))
    from o365check.http import build_session
    from o365check.postman import events as ev
    from o365check.postman.loading import load_collection, load_environment
    from o365check.postman.reporters.cli import CliReporter
    from o365check.postman.runner import CollectionRun, RunConfig
    from o365check.postman.summary import RunSummary

    config = RunConfig(environment=load_environment(environment_path), iterations=iterations)
    run = CollectionRun(load_collection(collection), config, session=build_session())
    summary = RunSummary()
    with open(os.devnull, "w", encoding="utf-8") as null:
        listeners = [summary, CliReporter(null, summary, color=False)]
        started = block_started = time.perf_counter()
        cpu_started = time.process_time()
        for event in run.events():
            for listener in listeners:
                listener.handle(event)
            if isinstance(event, ev.IterationCompleted) and (event.iteration + 1) % block == 0:
                now, cpu = time.perf_counter(), time.process_time()
                block_seconds = {"seconds": now - block_started, "cpu": cpu - cpu_started}
                print(json.dumps({"done": event.iteration + 1, **block_seconds, "rss": _rss_mib()}))
                sys.stdout.flush()
                block_started, cpu_started = now, cpu
        for listener in listeners[1:]:
            listener.close()
    print(json.dumps({"total": time.perf_counter() - started, "exit": summary.exit_code}))


def measure(collection: Path, environment: Path, iterations: int, block: int) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", str(collection), str(environment), str(iterations), str(block)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, _, usage = os.wait4(process.pid, 0)  # reaped here, so the kernel's peak RSS is ours to read
    process.returncode = 0
    wall = time.perf_counter() - started
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    blocks = [line for line in lines if "done" in line]
    total = next(line for line in lines if "total" in line)
    peak = usage.ru_maxrss / 1024
    return {
        "collection": collection.name,
        "iterations": iterations,
        "wall_s": round(wall, 2),
        "run_s": round(total["total"], 2),
        "exit": total["exit"],
        "first_block_s": round(blocks[0]["seconds"], 3),
        "last_block_s": round(blocks[-1]["seconds"], 3),
        "first_block_cpu_s": round(blocks[0]["cpu"], 3),
        "last_block_cpu_s": round(blocks[-1]["cpu"], 3),
        "rss_first_block_mib": round(blocks[0]["rss"], 1),
        "rss_last_block_mib": round(blocks[-1]["rss"], 1),
        "peak_rss_mib": round(peak, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", default="1000,10000")
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--collection", action="append", help="default: collections/office365-sendmail*.json")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), int(args.child[3]))
        return 0
    counts = sorted(int(n) for n in args.iterations.split(","))
    collections = [Path(c) for c in args.collection] if args.collection else COLLECTIONS
    sys.path.insert(0, str(Path(__file__).parent))
    from runner_vs_newman import start_sandbox  # one `o365check sandbox serve` on a loopback port

    with tempfile.TemporaryDirectory() as work:
        environment = Path(work) / "sandbox.postman_environment.json"
        server, _ = start_sandbox(environment)
        try:
            results = [measure(c, environment, n, min(args.block, n)) for c in collections for n in counts]
        finally:
            server.terminate()
            server.wait(10)
    ok = True
    for c in collections:
        mine = [r for r in results if r["collection"] == c.name]
        for r in mine:
            # CPU seconds, not wall time: the shared machine's load moves wall time between blocks.
            r["block_growth"] = round(r["last_block_cpu_s"] / r["first_block_cpu_s"], 2)
            ok &= r["block_growth"] <= MAX_BLOCK_GROWTH and r["exit"] == 0
        if len(mine) > 1:
            ratio = mine[-1]["run_s"] / mine[0]["run_s"]
            expected = mine[-1]["iterations"] / mine[0]["iterations"]
            mine[-1]["time_ratio"] = round(ratio, 2)
            ok &= ratio <= expected * 1.2
            ok &= mine[-1]["peak_rss_mib"] - mine[0]["peak_rss_mib"] <= MAX_RSS_GROWTH_MIB
    if args.json:
        print(json.dumps({"results": results, "targets_met": ok}, indent=2))
    else:
        print(
            "| collection | iterations | run (s) | first/last block wall (s) | first/last block CPU (s) | growth"
            " | RSS first/last block (MiB) | peak RSS (MiB) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in results:
            print(
                f"| {r['collection']} | {r['iterations']} | {r['run_s']} | {r['first_block_s']} / {r['last_block_s']}"
                f" | {r['first_block_cpu_s']} / {r['last_block_cpu_s']} | {r['block_growth']} | {r['rss_first_block_mib']} / {r['rss_last_block_mib']} | {r['peak_rss_mib']} |"
            )
        print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
