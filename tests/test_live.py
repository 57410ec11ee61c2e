"""Against a real tenant: the doctor, the guide's collection, and a record/replay round trip.

Run by a maintainer with a test tenant (never in CI: nothing here reaches Microsoft otherwise)::

    export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=... O365CHECK_SENDER=...
    .venv/bin/python -m pytest -m live

Without those variables every test here skips, naming what is missing. The tests drive the CLI as
a user would, so they keep testing what ships whatever the internals become.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "O365CHECK_SENDER")
CREDENTIAL = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH")


def _missing() -> list[str]:
    missing = [name for name in NEEDED if not os.environ.get(name)]
    if not any(os.environ.get(name) for name in CREDENTIAL):
        missing.append(" or ".join(CREDENTIAL))
    return missing


pytestmark = [
    pytest.mark.live,
    # A live test talks to Microsoft: every host is allowed (the suite's default blocks the network).
    pytest.mark.block_network(allowed_hosts=[".*"]),
    pytest.mark.skipif(bool(_missing()), reason=f"needs a real tenant: set {', '.join(_missing())}"),
]


def o365check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "o365check.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_doctor_passes_against_the_tenant() -> None:
    done = o365check("doctor", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, report
    assert all(step["status"] == "passed" for step in report["steps"]), report["steps"]


def test_the_guides_collection_passes_against_the_tenant(tmp_path: Path) -> None:
    env = os.environ
    values = {
        "tenant_id": env["AZURE_TENANT_ID"],
        "client_id": env["AZURE_CLIENT_ID"],
        "client_secret": env.get("AZURE_CLIENT_SECRET", ""),
        "sender": env["O365CHECK_SENDER"],
        "recipient": env.get("O365CHECK_RECIPIENT") or env["O365CHECK_SENDER"],
    }
    if not values["client_secret"]:
        pytest.skip("the guide's collection authenticates with a client secret (AZURE_CLIENT_SECRET)")
    args = [arg for key, value in values.items() for arg in ("--env-var", f"{key}={value}")]
    done = o365check("run", str(ROOT / "collections" / "office365-sendmail.postman_collection.json"), *args)
    assert done.returncode == 0, done.stdout[-2000:]
    assert values["client_secret"] not in done.stdout + done.stderr


def test_a_recording_of_the_tenant_replays_offline_and_holds_no_secret(tmp_path: Path) -> None:
    cassette = tmp_path / "live-doctor.yaml"
    recorded = o365check("doctor", "--json", "--record", str(cassette))
    assert recorded.returncode == 0, recorded.stdout
    replayed = o365check("doctor", "--json", "--replay", str(cassette))
    assert replayed.returncode == 0, replayed.stdout
    steps = [(s["name"], s["status"]) for s in json.loads(replayed.stdout)["steps"]]
    assert steps == [(s["name"], s["status"]) for s in json.loads(recorded.stdout)["steps"]]
    canaries = [os.environ[name] for name in ("AZURE_CLIENT_SECRET",) if os.environ.get(name)]
    check = o365check("cassette", "check", str(cassette), *[a for c in canaries for a in ("--canary", c)])
    assert check.returncode == 0, check.stdout
