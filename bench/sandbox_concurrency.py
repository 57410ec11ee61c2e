"""`o365check sandbox serve` under 50 concurrent clients: each gets a token and sends mail, over
and over, on its own keep-alive HTTPS connection. Checks that nothing failed and that the outbox
holds every message exactly once; prints throughput and latency percentiles.

    python bench/sandbox_concurrency.py [--clients 50] [--rounds 30] [--plain-http] [--json]

The server is the real command (`o365check sandbox serve --tls --shell-env`, a separate process);
the clients are threads of this process with one requests.Session each. Exit 0 when every request
succeeded and no message was lost or duplicated, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests


def start_server(tls: bool) -> dict[str, str]:
    command = [str(Path(sys.executable).with_name("o365check")), "sandbox", "serve", "--shell-env"]
    output = subprocess.run(command + (["--tls"] if tls else []), capture_output=True, text=True, check=True).stdout
    return {
        name: shlex.split(value)[0]
        for name, _, value in (line.removeprefix("export ").partition("=") for line in output.splitlines())
        if not name.startswith("#") and value
    }


def run(env: dict[str, str], clients: int, rounds: int) -> dict[str, Any]:
    base = env["O365CHECK_SANDBOX_URL"]
    verify: Any = env.get("O365CHECK_SANDBOX_CA", True)
    token_url = f"{base}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token"
    send_url = f"{base}/v1.0/users/{env['O365CHECK_SENDER']}/sendMail"
    form = {
        "client_id": env["AZURE_CLIENT_ID"],
        "client_secret": env["AZURE_CLIENT_SECRET"],
        "grant_type": "client_credentials",
        "scope": "https://graph.microsoft.com/.default",
    }
    latencies: dict[str, list[float]] = {"token": [], "sendMail": []}
    errors: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients)

    def client(number: int) -> None:
        session = requests.Session()
        session.trust_env = False
        session.verify = verify
        start_gate.wait()  # all clients start together
        for round_ in range(rounds):
            began = time.perf_counter()
            response = session.post(token_url, data=form, timeout=30)
            token_time = time.perf_counter() - began
            if response.status_code != 200:
                with lock:
                    errors.append(f"token {response.status_code}")
                continue
            message = {
                "Message": {
                    "subject": f"client {number} round {round_}",
                    "toRecipients": [{"emailAddress": {"address": env["O365CHECK_RECIPIENT"]}}],
                },
                "SaveToSentItems": False,
            }
            headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
            began = time.perf_counter()
            sent = session.post(send_url, json=message, headers=headers, timeout=30)
            send_time = time.perf_counter() - began
            with lock:
                latencies["token"].append(token_time)
                latencies["sendMail"].append(send_time)
                if sent.status_code != 202:
                    errors.append(f"sendMail {sent.status_code}")

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client, n) for n in range(clients)]:
            future.result()
    elapsed = time.perf_counter() - began
    outbox = requests.get(f"{base}/_sandbox/outbox", verify=verify, timeout=30).json()
    subjects = [m["subject"] for m in outbox]
    expected = {f"client {n} round {r}" for n in range(clients) for r in range(rounds)}
    every = latencies["token"] + latencies["sendMail"]
    return {
        "clients": clients,
        "rounds": rounds,
        "requests": len(every),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "messages": len(subjects),
        "lost": len(expected - set(subjects)),
        "duplicated": len(subjects) - len(set(subjects)),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(every) / elapsed, 1),
        "p50_ms": {k: round(_percentile(v, 50) * 1000, 1) for k, v in latencies.items()},
        "p99_ms": {k: round(_percentile(v, 99) * 1000, 1) for k, v in latencies.items()},
    }


def _percentile(values: list[float], percent: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--plain-http", action="store_true", help="serve HTTP instead of HTTPS")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = start_server(tls=not args.plain_http)
    try:
        result = run(env, args.clients, args.rounds)
    finally:
        os.kill(int(env["O365CHECK_SANDBOX_PID"]), signal.SIGTERM)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['clients']} clients x {result['rounds']} rounds (token + sendMail): {result['requests']} requests "
            f"in {result['seconds']} s = {result['requests_per_second']} req/s; errors {result['errors']}, "
            f"messages {result['messages']}, lost {result['lost']}, duplicated {result['duplicated']}; "
            f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
        )
    ok = result["errors"] == 0 and result["lost"] == 0 and result["duplicated"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
