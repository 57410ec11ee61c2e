"""Every notebook: committed clean, runs top to bottom in a clean kernel (sandbox and cassette),
and never saves a secret (executed notebooks and HTML reports included).

Kernels are separate processes, so pytest's --block-network does not reach them; they need no
network anyway: the sandbox answers in-process and a cassette replays (reference §1.7, §2).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from o365check.doctor import run_doctor
from o365check.errors import UsageError
from o365check.notebook_report import run_support_notebook, write_html_report
from o365check.settings import ENV_NAMES, Settings
from o365check.targets import open_target

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WEB_PAGE = ROOT / "o365check" / "web" / "walkthrough.ipynb"  # what `o365check web` serves
ALL_NOTEBOOKS = [*NOTEBOOKS, WEB_PAGE]
CANARY = "canary-Q~nb-5e1f0c9a-DO-NOT-LEAK"

# What each notebook must show when run top to bottom in the sandbox ("ok" scenario).
# Action cells show their result (an Outcome's HTML) under the cell, not just a repr.
EXPECTED_SANDBOX = {
    "00-index.ipynb": ["What it shows", "no-admin-consent"],
    "03-token.ipynb": [
        "Bearer token received with the Postman-style request",
        "Bearer token received with MSAL",
        "Raw answer of the token endpoint",
    ],
    "04-send-test-email.ipynb": ["Graph answered 202 Accepted"],
    "05-diagnose-failures.ipynb": ["AADSTS7000215", "Everything passed", "Every step passed."],
    "06-run-a-collection.ipynb": ["2 test(s) passed, 0 failed.", "Replayed ", "still in Sandbox tenant mode"],
    "07-limit-mail-send.ipynb": ["ErrorAccessDenied"],
    "08-smtp-oauth.ipynb": ["'smtp-send': 'passed'", "'smtp-sp-wrong-object-id': ('smtp-auth', '5.7.3')"],
    "10-support-check.ipynb": ["Every step passed", "o365check support report"],
}


@pytest.fixture
def clean_env(monkeypatch):
    """No AZURE_* / O365CHECK_* in this process, so none in the kernels it starts."""
    for var in list(ENV_NAMES.values()) + ["AZURE_CLIENT_CERTIFICATE_PASSWORD"]:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def execute(
    path: Path, *, store_widget_state: bool = True, extra_cells: dict[int, str] | None = None
) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel from the notebooks/ folder; cells may be inserted first."""
    nb = nbformat.read(path, as_version=4)
    for index, source in sorted((extra_cells or {}).items(), reverse=True):
        nb.cells.insert(index, nbformat.v4.new_code_cell(source))
    NotebookClient(
        nb,
        timeout=90,
        startup_timeout=60,
        kernel_name="python3",
        allow_errors=False,
        store_widget_state=store_widget_state,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return nb


def shown_text(nb: nbformat.NotebookNode) -> str:
    """Outputs plus widget state: everything the executed notebook would save."""
    return json.dumps([c.get("outputs", []) for c in nb.cells]) + json.dumps(nb.metadata.get("widgets", {}))


def test_there_is_an_index_and_one_notebook_per_task():
    names = {p.name for p in NOTEBOOKS}
    assert "00-index.ipynb" in names and len(names) >= 8
    index = nbformat.read(ROOT / "notebooks" / "00-index.ipynb", as_version=4)
    linked = "".join(c.source for c in index.cells if c.cell_type == "markdown")
    for name in names - {"00-index.ipynb"}:
        assert f"({name})" in linked, f"{name} is not linked from the index"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_or_widget_state(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata and "papermill" not in nb.metadata
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_prose_is_markdown_and_code_cells_are_short(path):
    """Explanations live in Markdown cells (wrapped, proportional font), never printed from code."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert "print(" not in cell.source, f"{path.name}: prose printed from code: {cell.source!r}"
            assert len(cell.source.splitlines()) <= 15, f"{path.name}: a long code cell is not a walkthrough step"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def test_notebook_texts_match_what_the_panels_do():
    """Issue 13: the texts once promised what did not happen."""
    setup = "".join(c.source for c in nbformat.read(ROOT / "notebooks" / "01-setup-walkthrough.ipynb", 4).cells)
    assert "at the bottom" not in setup and "in notebook 2" not in setup
    assert "credentials panel further down this notebook" in setup
    send = "".join(c.source for c in nbformat.read(ROOT / "notebooks" / "04-send-test-email.ipynb", 4).cells)
    assert "adele.vance@contoso.example" in send and "O365CHECK_RECIPIENT" in send


def test_nbstripout_verify_passes():
    result = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *map(str, ALL_NOTEBOOKS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom_in_the_sandbox(path, clean_env):
    nb = execute(path)
    text = shown_text(nb)
    for expected in EXPECTED_SANDBOX.get(path.name, []):
        assert expected in text, f"{path.name}: {expected!r} not shown"


@pytest.fixture(scope="module")
def recorded_cassette(tmp_path_factory) -> Path:
    """A doctor run (Postman-style token too) against the mailbox-unlicensed scenario, recorded."""
    path = tmp_path_factory.mktemp("cassettes") / "doctor-mailbox-unlicensed.yaml"
    target = open_target(Settings(sandbox="mailbox-unlicensed", cassette=str(path), record_mode="once"))
    try:
        steps = list(run_doctor(target.settings, target.session, sandbox=target.sandbox, postman=True, max_wait=0))
    finally:
        target.close()
    assert [s.status for s in steps][-1] == "failed" and path.is_file()
    return path


EXPECTED_REPLAY = {
    "03-token.ipynb": ["Bearer token received with the Postman-style request", "Bearer token received with MSAL"],
    "04-send-test-email.ipynb": ["MailboxNotEnabledForRESTAPI"],
    "05-diagnose-failures.ipynb": ["MailboxNotEnabledForRESTAPI"],
    # a Graph cassette has no SMTP transcript beside it: the panel says so, the scenario table still runs
    "08-smtp-oauth.ipynb": ["does not exist; record it first", "'smtp-rate-limited': ('smtp-send', '5.7.0')"],
    "10-support-check.ipynb": ["MailboxNotEnabledForRESTAPI"],
}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom_from_a_cassette(path, recorded_cassette, clean_env):
    # The recorded scenario (mailbox-unlicensed) shows although the notebooks default to "ok":
    # the answers came from the cassette.
    clean_env.setenv("O365CHECK_CASSETTE", str(recorded_cassette))
    nb = execute(path)
    text = shown_text(nb)
    for expected in EXPECTED_REPLAY.get(path.name, []):
        assert expected in text, f"{path.name}: {expected!r} not shown in replay"


@pytest.mark.slow
def test_canary_typed_in_a_notebook_is_not_saved_nor_in_its_html(clean_env, tmp_path):
    path = ROOT / "notebooks" / "03-token.ipynb"
    nb = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "credentials = CredentialsPanel" in c.source) + 1
    executed = execute(
        path,
        store_widget_state=True,
        extra_cells={at: f"credentials.secret.value = {CANARY!r}\ncredentials.secret.value"},
    )
    text = shown_text(executed)
    assert "AADSTS7000215" in text  # the canary really was used as the secret
    assert "widget-state" in json.dumps(executed.metadata.get("widgets", {}))  # state was saved
    del executed.cells[at]  # the cell stood in for the learner's typing; the rest is what gets saved
    out = tmp_path / "executed.ipynb"
    nbformat.write(executed, out)
    html = write_html_report(out, tmp_path / "executed.html", Settings().redactor())  # no secret known to mask
    assert CANARY not in out.read_text()
    assert CANARY not in html.read_text()


@pytest.mark.slow
def test_support_notebook_takes_secrets_from_the_environment_only(clean_env, tmp_path):
    clean_env.setenv("AZURE_CLIENT_SECRET", CANARY)
    out, html = run_support_notebook(
        ROOT / "notebooks" / "10-support-check.ipynb",
        tmp_path / "support.ipynb",
        parameters={"scenario": "ok"},
        html=tmp_path / "support.html",
    )
    report = out.read_text()
    assert "AADSTS7000215" in report  # the environment's (canary) secret was the one sent
    assert CANARY not in report and CANARY not in html.read_text()
    assert "widgets" not in nbformat.read(out, as_version=4).metadata


def test_support_notebook_refuses_a_secret_parameter(tmp_path):
    with pytest.raises(UsageError) as caught:
        run_support_notebook(
            ROOT / "notebooks" / "10-support-check.ipynb", tmp_path / "x.ipynb", parameters={"client_secret": CANARY}
        )
    assert "'client_secret' looks secret" in str(caught.value) and CANARY not in str(caught.value)
    assert not (tmp_path / "x.ipynb").exists()


def test_support_command_line_refuses_a_secret_parameter(tmp_path, capsys):
    from o365check.notebook_report import main

    with pytest.raises(SystemExit) as exited:
        main(
            [
                str(ROOT / "notebooks" / "10-support-check.ipynb"),
                str(tmp_path / "x.ipynb"),
                "-p",
                "client_secret",
                CANARY,
            ]
        )
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "'client_secret' looks secret" in err and CANARY not in err


def test_support_command_line_exits_with_the_checks_exit_code(clean_env, tmp_path):
    from o365check.notebook_report import main, reported_exit_code

    with pytest.raises(SystemExit) as exited:
        main(
            [
                str(ROOT / "notebooks" / "10-support-check.ipynb"),
                str(tmp_path / "fail.ipynb"),
                "-p",
                "scenario",
                "wrong-secret",
            ]
        )
    assert exited.value.code == 1
    assert reported_exit_code(tmp_path / "fail.ipynb") == 1
    assert (tmp_path / "fail.html").exists()
