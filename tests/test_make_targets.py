"""`make lab` and `make web` work as root (containers run as root; JupyterLab refuses root without --allow-root)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(target: str, uid: int, tmp_path: Path) -> str:
    """`make -n TARGET` as if `id -u` said ``uid`` (a stand-in `id` first on PATH)."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (fake / "id").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")
    # -o: treat the venv as built, so the dry run shows only the target's own command
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", target], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_make_lab_adds_allow_root_only_as_root(tmp_path):
    assert "jupyter lab notebooks/ --allow-root" in dry_run("lab", 0, tmp_path)
    assert "--allow-root" not in dry_run("lab", 1000, tmp_path)


def test_make_web_runs_the_web_command(tmp_path):
    assert "o365check web --port 8866" in dry_run("web", 0, tmp_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="checks the root case; CI runs as root")
@pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
def test_make_lab_really_starts_as_root(tmp_path):
    port = _free_port()
    env = dict(
        os.environ,
        JUPYTER_PORT=str(port),  # jupyter_server reads its default port from here
        BROWSER="true",  # "open a browser" does nothing
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
    )
    lab = subprocess.Popen(
        ["make", "-o", ".venv/.installed", "lab"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "lab.log").open("w"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert lab.poll() is None, (tmp_path / "lab.log").read_text()[-2000:]  # as root without the flag: exits
            assert time.monotonic() < deadline, "JupyterLab did not start"
            time.sleep(0.2)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)  # make, its shell and JupyterLab: the group of our own child
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
