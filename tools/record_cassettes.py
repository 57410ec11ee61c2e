"""Re-record every committed cassette in collections/cassettes/ against the sandbox.

    .venv/bin/python tools/record_cassettes.py            # all scenarios, doctor and collection
    .venv/bin/python tools/record_cassettes.py ok throttled

For each sandbox scenario: ``doctor-<scenario>.yaml`` (``o365check doctor --sandbox S --postman
--record``) and ``<scenario>.yaml`` (``o365check run collections/office365-sendmail.postman_collection.json
--sandbox S --record``). Then ``o365check cassette check`` runs over all of them.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "collections" / "cassettes"
COLLECTION = ROOT / "collections" / "office365-sendmail.postman_collection.json"


def main(names: list[str]) -> int:
    from o365check.postman.command import RunOptions, run_collection_cli
    from o365check.sandbox import SCENARIOS

    # smtp-* scenarios are recorded by tools/record_smtp_cassettes.py (SMTP transcripts too).
    for name in names or [n for n, s in SCENARIOS.items() if s.via == "graph"]:
        doctor = CASSETTES / f"doctor-{name}.yaml"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "o365check.cli",
                "doctor",
                "--sandbox",
                name,
                "--postman",
                "--json",
                "--max-wait",
                "0",
                "--record",
                str(doctor),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        run_collection_cli(
            RunOptions(
                str(COLLECTION.relative_to(ROOT)), sandbox=name, record=str(CASSETTES / f"{name}.yaml"), no_color=True
            ),
            io.StringIO(),
            io.StringIO(),
        )
        print(f"recorded {name}")
    files = sorted(str(p) for p in CASSETTES.glob("*.yaml"))
    return subprocess.run([sys.executable, "-m", "o365check.cli", "cassette", "check", *files], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
