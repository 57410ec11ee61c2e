"""A learner in a real browser: JupyterLab on 127.0.0.1, headless Chromium through Playwright.

Recipe: reference notebook-testing §3 (Debian's /usr/bin/chromium via executable_path, an isolated
settings dir, expose_app_in_browser to wait for the kernel itself, not the idle indicator).
Skips without Chromium locally; with CI=true a missing Chromium fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright import sync_api

from o365check.sandbox.scenarios import CLIENT_ID, SECRET_VALUE, SENDER, TENANT_ID

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
RESULTS = ROOT / "test-results"
CANARY = "canary-Q~browser-3c9b7e1d-DO-NOT-LEAK"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.block_network(allowed_hosts=["127.0.0.1"])]


KERNEL_READY = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session && widget.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings_dir: Path) -> None:
    """No news toast (§3.4 item 3); widget state saved with the notebook, the risky setting (§2.1)."""
    files = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
    }
    for name, content in files.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a copy of notebooks/ (saving must not touch the repository)."""
    state = tmp_path_factory.mktemp("lab")
    root = state / "notebooks"
    shutil.copytree(ROOT / "notebooks", root)
    _write_settings(state / "user-settings")
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(state / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
    )
    for var in (
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "O365CHECK_SENDER",
        "O365CHECK_CASSETTE",
        "O365CHECK_SANDBOX",
    ):
        env.pop(var, None)
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")  # §3.4 item 1
    log = (state / "lab.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/status", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start: {(state / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield base, root
    finally:
        server.send_signal(signal.SIGTERM)  # our own server, by its PID
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def open_and_run_all(browser, base: str, notebook: str):
    """Open a notebook, wait until its kernel is really there (§3.4 item 2), run every cell."""
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.goto(f"{base}/lab/tree/{notebook}?reset")  # ?reset: no tabs restored from an earlier test
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    page.wait_for_function(KERNEL_READY, timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    select = page.locator(".jp-Dialog button", has_text="Select")
    if select.count():  # a "Select Kernel" dialog despite the wait: accept the default
        select.first.click()
    page.wait_for_function(KERNEL_READY, timeout=60_000)
    return page


def test_learner_fills_credentials_gets_a_token_and_sends(lab, browser):
    base, _root = lab
    page = open_and_run_all(browser, base, "04-send-test-email.ipynb")
    try:
        page.get_by_placeholder("Application (client) ID", exact=False).fill(CLIENT_ID)
        page.get_by_placeholder("Directory (tenant) ID", exact=False).fill(TENANT_ID)
        page.get_by_placeholder("the mailbox the app sends as", exact=False).fill(SENDER)
        secret = page.locator("input[type='password']")  # §3.4 item 4
        secret.fill(SECRET_VALUE)
        secret.press("Enter")
        page.get_by_text(f"Client secret: received ({len(SECRET_VALUE)} characters) and cleared").wait_for(
            timeout=20_000
        )
        assert secret.input_value() == ""  # the box was emptied by the kernel

        page.locator("button.jupyter-button", has_text="Send it like Postman").click()
        page.get_by_text("Bearer token received with the Postman-style request").wait_for(timeout=20_000)
        claims = page.locator(".widget-html", has_text="Claims (decoded").inner_text()
        assert "roles" in claims and "Mail.Send" in claims and "✘" not in claims
        request_view = page.locator(".widget-html", has_text="The guide's Postman token request").inner_text()
        assert "client_secret=********" in request_view and SECRET_VALUE not in request_view

        page.locator("button.jupyter-button", has_text="Send the test e-mail").click()
        page.get_by_text("Graph answered 202 Accepted").wait_for(timeout=20_000)
        outbox = page.locator(".widget-html", has_text="Sandbox outbox").inner_text()
        assert SENDER in outbox and "o365check test message" in outbox
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "browser-send-test-email.png"), full_page=True)
        assert SECRET_VALUE not in page.content()
    except Exception:
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "browser-send-test-email-FAILED.png"), full_page=True)
        raise
    finally:
        page.close()


def test_saved_notebook_holds_no_canary_even_with_widget_state_saved(lab, browser):
    base, root = lab
    page = open_and_run_all(browser, base, "02-credentials.ipynb")
    try:
        secret = page.locator("input[type='password']")
        secret.fill(CANARY)
        secret.press("Enter")
        page.get_by_text(f"Client secret: received ({len(CANARY)} characters)").wait_for(timeout=20_000)
        saved = root / "02-credentials.ipynb"
        before = saved.stat().st_mtime_ns
        page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        deadline = time.monotonic() + 20
        while saved.stat().st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.2)
        text = saved.read_text()
        assert "application/vnd.jupyter.widget-state+json" in text  # widget state really was saved
        assert CANARY not in text
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "browser-canary-saved.png"), full_page=True)
    except Exception:
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "browser-canary-saved-FAILED.png"), full_page=True)
        raise
    finally:
        page.close()
