"""A learner in a real browser: JupyterLab on 127.0.0.1, headless Chromium through Playwright.

Recipe: reference notebook-testing §3 (Debian's /usr/bin/chromium via executable_path, an isolated
settings dir, expose_app_in_browser to wait for the kernel itself, not the idle indicator).
Skips without Chromium locally; with CI=true a missing Chromium fails instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
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


# Every cell ran: the kernel is idle and no prompt shows [*] (queued or running).
RUN_ALL_DONE = """() => {
  const widget = window.jupyterapp.shell.currentWidget;
  const kernel = widget.sessionContext.session.kernel;
  const prompts = [...widget.node.querySelectorAll('.jp-InputPrompt')].map(p => p.textContent);
  return kernel.status === 'idle' && prompts.length > 0 && !prompts.some(p => p.includes('*'));
}"""


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
        # the newest entry of the token panel's history (Run All already added an MSAL one under it)
        entry = page.locator(".widget-html .o365check-entry", has_text="Token with the Postman-style request").first
        entry.get_by_text("Bearer token received with the Postman-style request").wait_for(timeout=20_000)
        text = entry.inner_text()
        assert "Claim\tValue\tVerdict" in text or "Claim Value Verdict" in " ".join(text.split())
        assert "Mail.Send" in text and "✘" not in text
        assert "client_secret=********" in text and SECRET_VALUE not in text  # the request, secret masked
        assert '"access_token": "********"' in text  # the raw answer, token masked

        page.locator("button.jupyter-button", has_text="Send the test e-mail").click()
        sent = page.locator(".widget-html .o365check-entry", has_text="Send the test e-mail").first
        sent.get_by_text("Graph answered 202 Accepted").wait_for(timeout=20_000)
        outbox = sent.inner_text()
        assert "Sandbox outbox" in outbox and SENDER in outbox and "o365check test message" in outbox
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


# ----------------------------------------------------------------------------- every notebook, as a learner sees it
SCREENSHOT_NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
# What an ipywidget shows when its JavaScript did not load: its text repr instead of the widget.
WIDGET_REPR = re.compile(
    r"\b(VBox|HBox|HTML|Button|Text|Password|Dropdown|ToggleButtons|Checkbox)\((children|value|description)="
)


def assert_widgets_rendered(page, within=None) -> None:
    """No widget fell back to its text repr (what shows when the widget JavaScript did not load)."""
    text = (within or page.locator("body")).inner_text()
    assert not WIDGET_REPR.search(text), WIDGET_REPR.search(text).group(0)


def _wait_listening(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)


@pytest.fixture(scope="module")
def voila_notebooks(tmp_path_factory) -> Iterator[str]:
    """Voila over a copy of notebooks/ with the code shown: each page is a notebook run top to bottom.

    Much faster than JupyterLab for this (no app to load per notebook), and the same widget manager.
    """
    state = tmp_path_factory.mktemp("voila")
    shutil.copytree(ROOT / "notebooks", state / "notebooks")
    (state / "collections").symlink_to(ROOT / "collections")  # notebook 06 reads ../collections
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "O365CHECK_"))}
    env.update(JUPYTER_RUNTIME_DIR=str(state / "runtime"))
    port = _free_port()
    log = state / "voila.log"
    command = [
        sys.executable,
        "-m",
        "voila",
        str(state / "notebooks"),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        "--VoilaConfiguration.strip_sources=False",
    ]
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_listening(port, server, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have died already (its log says why)
            os.killpg(server.pid, signal.SIGTERM)  # Voila and its kernels: the group of our own child
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.parametrize("name", SCREENSHOT_NOTEBOOKS)
def test_screenshot_of_every_notebook_run_top_to_bottom(voila_notebooks, browser, name):
    """Each notebook executed in a fresh kernel, drawn in Chromium with its code and its widgets; the
    screenshot is kept in test-results/ (CI keeps them)."""
    RESULTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1300, "height": 1400})
    try:
        page.goto(f"{voila_notebooks}/voila/render/{name}", timeout=90_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
        assert page.locator(".jp-CodeCell").count() > 0  # the code is shown here, unlike the web page
        if name not in ("00-index.ipynb", "10-support-check.ipynb"):  # these show a table and a report
            page.locator(".jupyter-button").first.wait_for(timeout=30_000)
        assert_widgets_rendered(page)
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "There was an error when executing cell" not in body
        page.screenshot(path=str(RESULTS / f"notebook-{Path(name).stem}.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(RESULTS / f"notebook-{Path(name).stem}-FAILED.png"), full_page=True)
        raise
    finally:
        page.close()


# ----------------------------------------------------------------------------- `o365check web`: the standalone page
@pytest.fixture(scope="module")
def web_page(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`o365check web --port N` as a user starts it, with its state (runtime, home) in a folder we can search."""
    state = tmp_path_factory.mktemp("web")
    env = dict(
        os.environ,
        HOME=str(state / "home"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        JUPYTER_DATA_DIR=str(state / "data"),
        JUPYTER_CONFIG_DIR=str(state / "config"),
    )
    for var in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "O365CHECK_SENDER", "O365CHECK_CASSETTE"):
        env.pop(var, None)
    port = _free_port()
    log = (state / "web.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "o365check.cli", "web", "--port", str(port)],
        cwd=state,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    try:
        line = server.stdout.readline()  # printed once the page answers
        assert f"ready at http://127.0.0.1:{port}/" in line, line + (state / "web.log").read_text()[-2000:]
        yield f"http://127.0.0.1:{port}/", state
    finally:
        server.send_signal(signal.SIGTERM)  # our own `o365check web`; it stops Voila, by its PID
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def run_whole_check(page, n: int) -> str:
    """Click "Run the whole check" and return the newest entry's text once the n-th entry is there."""
    page.locator("button.jupyter-button", has_text="Run the whole check").click()
    entries = page.locator(".o365check-entry")
    page.wait_for_function(f"document.querySelectorAll('.o365check-entry').length >= {n}", timeout=30_000)
    return entries.first.inner_text()


def test_web_page_checks_healthy_and_failing_scenarios(web_page, browser):
    url, state = web_page
    page = browser.new_page(viewport={"width": 1300, "height": 1600})
    RESULTS.mkdir(exist_ok=True)
    try:
        page.goto(url)
        page.locator("button.jupyter-button", has_text="Run the whole check").wait_for(timeout=90_000)
        assert_widgets_rendered(page)
        assert page.locator(".widget-button, .jupyter-button").count() >= 6
        html = page.content()
        assert "from o365check" not in html and "Walkthrough(" not in html  # no source code
        # markdown cells are input areas too; no code cell may show its source
        assert not any(
            t.strip()
            for t in page.locator(".jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .cm-content").all_inner_texts()
        )

        # the credentials, as a support engineer fills them in
        page.locator("button.jupyter-button", has_text="Fill in the sandbox's example values").click()
        page.get_by_text("Tenant ID: looks right.").wait_for(timeout=20_000)
        secret = page.locator("input[type='password']")
        secret.fill(SECRET_VALUE)
        secret.press("Enter")
        page.get_by_text(f"Client secret: received ({len(SECRET_VALUE)} characters) and cleared").wait_for(
            timeout=20_000
        )
        assert secret.input_value() == ""

        healthy = run_whole_check(page, 1)
        assert "Every step passed." in healthy and "sandbox scenario 'ok'" in healthy

        page.locator(".widget-dropdown select").first.select_option("no-admin-consent")
        page.get_by_text("Sandbox scenario 'no-admin-consent'", exact=False).first.wait_for(timeout=20_000)
        failing = run_whole_check(page, 2)
        assert "Exit code 1" in failing and "failed" in failing
        assert "The token has no roles: Mail.Send is not granted as an application permission" in failing
        assert "Request ID" in failing and "Client request ID" in failing
        newest = page.locator(".o365check-entry").first
        references = newest.locator("a[href^='https://learn.microsoft.com/']")
        assert references.count() >= 1
        consent = newest.locator("a[href*='/adminconsent?client_id=']")
        assert consent.count() >= 1
        for link in (references.first, consent.first):
            assert link.get_attribute("target") == "_blank"
            assert "noopener" in link.get_attribute("rel")
        assert "Every step passed." in page.locator(".o365check-entry").nth(1).inner_text()  # history kept

        assert SECRET_VALUE not in page.content()
        page.screenshot(path=str(RESULTS / "web-page.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(RESULTS / "web-page-FAILED.png"), full_page=True)
        raise
    finally:
        page.close()
    # nothing the page was given was written to disk (Voila's runtime files, the home, the working folder)
    for path in state.rglob("*"):
        if path.is_file():
            assert SECRET_VALUE not in path.read_text(errors="replace"), path
    assert (ROOT / "o365check" / "web" / "walkthrough.ipynb").read_text().count('"outputs": []') >= 1
