"""``o365check web``: the walkthrough as a standalone page, served by Voilà on 127.0.0.1.

Voilà runs ``walkthrough.ipynb`` (shipped next to this file) in a fresh kernel for each visitor and
shows only its outputs: the widgets, no code, no Jupyter menus. Secrets typed into the page live in
that kernel (the credentials panel empties the secret box at once) and Voilà never saves a
notebook, so nothing secret is written to disk.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from o365check.errors import UsageError

__all__ = ["PAGE", "serve", "voila_command"]

PAGE = Path(__file__).with_name("walkthrough.ipynb")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def voila_command(port: int, page: Path = PAGE) -> list[str]:
    """Voilà on loopback only, sources stripped, no tracebacks in the page (they could show values)."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(page),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
    ]


def serve(port: int = 8866, *, page: Path = PAGE, ready_timeout: float = 60.0, out: Any = None) -> int:
    """Start Voilà, print the page's URL once it answers, and run until Ctrl+C or SIGTERM.

    Returns the exit code: 0 after a clean stop, 2 when the page cannot be served (port in use,
    Voilà not installed).
    """
    out = out or sys.stdout
    if importlib.util.find_spec("voila") is None:
        raise UsageError("o365check web needs Voila (the notebooks extra). Fix: pip install 'o365check[notebooks]'")
    if port == 0:
        port = _free_port()
    elif _listening(port):
        raise UsageError(f"port {port} on 127.0.0.1 is already in use. Fix: pick another --port (or --port 0)")
    server = subprocess.Popen(voila_command(port, page), start_new_session=True)
    stop = {"requested": False}

    def _stop(*_: Any) -> None:
        stop["requested"] = True

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        deadline = time.monotonic() + ready_timeout
        while not _listening(port):
            if server.poll() is not None:
                raise UsageError(
                    f"Voila stopped before serving the page (exit code {server.returncode}); see its log above"
                )
            if time.monotonic() > deadline:
                raise UsageError(f"Voila did not answer on port {port} within {ready_timeout:g} s")
            time.sleep(0.1)
        print(f"o365check web: the walkthrough page is ready at http://127.0.0.1:{port}/ (Ctrl+C to stop)", file=out)
        out.flush()
        while not stop["requested"] and server.poll() is None:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # Voilà and the kernels it started, by our own child's group
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    return 0 if stop["requested"] or server.returncode in (0, -signal.SIGTERM, None) else 2
