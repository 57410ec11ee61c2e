"""Re-record the SMTP cassettes in collections/cassettes/ against the sandbox (never a real tenant).

    .venv/bin/python tools/record_smtp_cassettes.py                 # every smtp-* scenario
    .venv/bin/python tools/record_smtp_cassettes.py smtp-ok smtp-rate-limited

For each ``smtp-*`` scenario: ``doctor-<scenario>.yaml`` (the HTTP exchanges: discovery and the
Exchange Online token, a vcrpy cassette) and ``doctor-<scenario>.smtp.yaml`` (the SMTP dialogue,
an o365check SMTP transcript, docs/smtp.md), as ``o365check doctor --via smtp --sandbox <scenario>
--record`` writes them, with ``generated_by`` naming this script in both files' metadata. Then
``o365check cassette check`` runs over all of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "collections" / "cassettes"
GENERATED_BY = "tools/record_smtp_cassettes.py (against the o365check sandbox, not a real tenant)"


def record(name: str) -> Path:
    from o365check.recording import open_cassette
    from o365check.settings import Settings
    from o365check.smtp_doctor import open_smtp_channel, run_smtp_doctor
    from o365check.targets import open_target

    path = CASSETTES / f"doctor-{name}.yaml"
    settings = Settings(sandbox=name)
    recorder = open_cassette(path, mode="rewrite", settings=settings)
    target = open_target(settings, recorder=recorder)
    recorder.describe_recording(
        {**{k: v for k, v in recorder.metadata.items() if k != "recorded_with"}, "generated_by": GENERATED_BY}
    )
    channel = open_smtp_channel(target)
    try:
        for _step in run_smtp_doctor(target.settings, target.session, channel, max_wait=0, sleep=lambda s: None):
            pass
    finally:
        channel.close(target, {"generated_by": GENERATED_BY})
        target.close()
        recorder.close()
    return path


def main(names: list[str]) -> int:
    from o365check.sandbox import SCENARIOS

    for name in names or [n for n, s in SCENARIOS.items() if s.via == "smtp"]:
        print(f"recorded {record(name).relative_to(ROOT)} and its .smtp.yaml")
    files = sorted(str(p) for p in CASSETTES.glob("doctor-smtp-*.yaml"))
    return subprocess.run([sys.executable, "-m", "o365check.cli", "cassette", "check", *files], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
