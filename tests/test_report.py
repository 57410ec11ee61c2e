"""`o365check report`: the support check as one finished HTML page (issue 13 item 2), and the papermill path."""

from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from o365check import __version__
from o365check.cli import main
from o365check.notebook_report import reported_exit_code, run_support_notebook
from o365check.sandbox.scenarios import SECRET_VALUE
from o365check.settings import ENV_NAMES

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = ROOT / "notebooks" / "10-support-check.ipynb"
CANARY = "canary-Q~report-8d2f4a6b-DO-NOT-LEAK"


@pytest.fixture
def clean_env(monkeypatch):
    for var in [*ENV_NAMES.values(), "AZURE_CLIENT_CERTIFICATE_PASSWORD"]:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def report(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", *args, "--output", str(out)], env=env, catch_exceptions=False)
    return result.exit_code, result.output, out.read_text() if out.exists() else ""


def links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" target="_blank" rel="noopener noreferrer"[^>]*>', html)


def test_no_admin_consent_report_is_a_finished_document(clean_env, tmp_path):
    code, output, html = report(tmp_path, "--sandbox", "no-admin-consent")
    assert code == 1 and "Report written to" in output
    title = re.search(r"<title>(.*)</title>", html).group(1)
    assert title.startswith("o365check support report: tenant ") and ", app " in title and "(sandbox)" in title
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", title)  # the time
    assert f"o365check version</td><td style='text-align:left;vertical-align:top'>{__version__}" in html
    assert "Sandbox: this check ran against o365check's built-in sandbox tenant" in unescape(html)
    assert any(h.startswith("https://learn.microsoft.com/") for h in links(html))
    # no code: no notebook cell, no script, no parameter cell
    for code_marker in ("jp-InputArea", "<script", "import ", "scenario = ", "injected-parameters"):
        assert code_marker not in html
    # every step with its result, every failed step's diagnosis with the IDs
    for title in ("Settings are complete", "Tenant is found", "App-only token", "Token claims", "Graph sendMail"):
        assert title in html
    assert html.count("Why step ") == 2  # claims and send both failed: both explained
    for detail in ("Request ID", "Client request ID", "Date"):
        assert f">{detail}</td>" in html


def test_token_failure_report_has_trace_and_correlation_ids(clean_env, tmp_path):
    code, _output, html = report(tmp_path, "--sandbox", "wrong-secret", "--no-postman")
    assert code == 1
    for detail in ("Trace ID", "Correlation ID", "Timestamp"):
        assert f">{detail}</td>" in html
    assert "AADSTS7000215" in html


def test_healthy_report_exits_0(clean_env, tmp_path):
    code, output, html = report(tmp_path, "--sandbox")
    assert code == 0 and "Every step passed" in output and "Every step passed" in html


def test_scenario_typo_is_a_clear_usage_error(clean_env, tmp_path):
    code, output, html = report(tmp_path, "--sandbox", "no-admin-consnet")
    assert code == 2 and html == ""
    assert "'no-admin-consnet' is not a sandbox scenario" in output and "no-admin-consent" in output
    assert "Traceback" not in output


def test_help_explains_output_exit_codes_and_examples():
    result = CliRunner().invoke(main, ["report", "--help"])
    assert result.exit_code == 0
    for text in ("--output", "--sandbox", "--notebook", "Exit codes: 0", "Examples:", "o365check report --sandbox"):
        assert text in result.output


def test_canary_secret_never_reaches_the_report(clean_env, tmp_path):
    code, output, html = report(tmp_path, "--sandbox", env={"AZURE_CLIENT_SECRET": CANARY})
    assert code == 1 and "AADSTS7000215" in html  # the canary was really sent as the secret
    assert CANARY not in html + output


def test_a_step_that_raises_is_reported_masked(clean_env, tmp_path, monkeypatch):
    """An unexpected exception whose message holds the secret and the token still ends as a masked report."""
    import o365check.doctor

    def exploding_send(session, settings, token, message, **kwargs):
        raise RuntimeError(f"boom with {settings.client_secret.reveal()} and Bearer {token.reveal()}")

    monkeypatch.setattr(o365check.doctor, "send_mail", exploding_send)
    code, _output, html = report(tmp_path, "--sandbox", env={"AZURE_CLIENT_SECRET": SECRET_VALUE})
    assert code == 1
    assert "RuntimeError: boom with ********" in html and "unexpected-error" in html
    assert SECRET_VALUE not in html and "eyJ" not in html


@pytest.mark.slow
def test_notebook_path_writes_masked_notebook_and_the_same_report(clean_env, tmp_path):
    notebook, out = tmp_path / "support.ipynb", tmp_path / "support.html"
    result = CliRunner().invoke(
        main,
        ["report", "--sandbox", "mailbox-unlicensed", "--notebook", str(notebook), "--output", str(out)],
        env={"AZURE_CLIENT_SECRET": CANARY},
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.output
    html, executed = out.read_text(), notebook.read_text()
    assert "<title>o365check support report: " in html and "AADSTS7000215" in html  # the canary was sent
    assert "scenario = " not in html and "import " not in html  # no code, no parameter cell
    assert CANARY not in html and CANARY not in executed
    assert reported_exit_code(notebook) == 1


@pytest.mark.slow
def test_plain_papermill_fails_when_the_check_fails(clean_env, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "papermill", str(SUPPORT), str(tmp_path / "o.ipynb"), "-p", "scenario", "wrong-secret"],
        capture_output=True,
        text=True,
        cwd=SUPPORT.parent,
    )
    assert result.returncode != 0
    assert "CheckFailed: The check failed (exit code 1)" in result.stderr + result.stdout


@pytest.mark.slow
def test_papermill_path_masks_outputs_when_a_cell_fails(clean_env, tmp_path):
    clean_env.setenv("AZURE_CLIENT_SECRET", CANARY)
    failing = nbformat.v4.new_notebook()
    failing.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    failing.cells = [
        nbformat.v4.new_code_cell("scenario = 'ok'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os\nprint('secret is', os.environ['AZURE_CLIENT_SECRET'])"),
        nbformat.v4.new_code_cell("raise RuntimeError('leaking ' + os.environ['AZURE_CLIENT_SECRET'])"),
    ]
    source = tmp_path / "failing.ipynb"
    nbformat.write(failing, source)
    out, html = run_support_notebook(source, tmp_path / "out.ipynb", html=tmp_path / "out.html")
    executed = out.read_text()
    assert "RuntimeError" in executed and "secret is ********" in executed  # the cells ran and failed
    assert CANARY not in executed and CANARY not in html.read_text()
    assert "raise RuntimeError" not in html.read_text()  # outputs only, no code
    assert reported_exit_code(out) == 1


def test_papermill_runner_refuses_a_scenario_typo_before_starting_a_kernel(tmp_path, capsys):
    from o365check.notebook_report import main as notebook_report

    with pytest.raises(SystemExit) as exited:
        notebook_report([str(SUPPORT), str(tmp_path / "x.ipynb"), "-p", "scenario", "wrong-secert"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "'wrong-secert' is not a sandbox scenario" in err and "wrong-secret" in err and "Traceback" not in err
    assert not (tmp_path / "x.ipynb").exists()


def test_papermill_runner_help_says_what_it_does():
    result = subprocess.run(
        [sys.executable, "-m", "o365check.notebook_report", "--help"], capture_output=True, text=True, check=True
    )
    assert "Exit codes: 0" in result.stdout and "-p scenario" in result.stdout and "masked" in result.stdout
