"""Run the support notebook headless (papermill) and write an HTML report, with secrets masked.

Secrets reach the notebook only through environment variables (``AZURE_CLIENT_SECRET``...): the
kernel inherits them. A papermill parameter is written into the output notebook three times
(reference notebook-testing §2.1), so a parameter whose name looks secret is refused. Widget state
is not stored, and every output is passed through the settings' ``Redactor`` before the executed
notebook and the HTML are written, in case a cell printed a secret anyway.

    python -m o365check.notebook_report notebooks/10-support-check.ipynb out/support.ipynb -p scenario ""

``o365check report --notebook out/support.ipynb`` does the same from the command line.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from html import unescape
from pathlib import Path
from typing import Any

from .errors import UsageError
from .redact import Redactor, is_secret_name
from .settings import Settings
from .support_report import check_scenario_name, document

__all__ = ["mask_notebook", "report_fragment", "reported_exit_code", "run_support_notebook", "write_html_report"]


def _refuse_secret_parameters(parameters: Mapping[str, Any]) -> None:
    for name in parameters:
        if is_secret_name(name):
            raise UsageError(
                f"parameter {name!r} looks secret and would be saved in the output notebook: "
                "set it as an environment variable (AZURE_CLIENT_SECRET...) instead"
            )


def mask_notebook(nb: Any, redactor: Redactor) -> Any:
    """Mask every output, the sources and the papermill metadata; drop any saved widget state."""
    nb.metadata.pop("widgets", None)
    if "papermill" in nb.metadata:
        nb.metadata["papermill"] = redactor.data(nb.metadata["papermill"])
    import nbformat

    for cell in nb.cells:
        cell.source = redactor.text(cell.source)
        if "outputs" in cell:  # every field: text, data, and an error's ename/evalue/traceback
            cell.outputs = [nbformat.from_dict(redactor.data(dict(output))) for output in cell.outputs]
    return nb


def report_fragment(nb: Any) -> str | None:
    """The support report the notebook displayed (``SupportCheck.fragment``), or None if no cell showed one."""
    for cell in reversed(nb.cells):
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else str(html)
            if 'class="o365check-report"' in html:
                return html
    return None


def write_html_report(notebook: str | Path, html_path: str | Path, redactor: Redactor) -> Path:
    """The executed notebook as a standalone HTML page, masked once more.

    When the notebook displayed a support report, the page is that report (the same document
    ``o365check report`` writes). Otherwise (a cell failed first, or another notebook) it is the
    notebook's outputs through nbconvert, without any code or parameter cell.
    """
    import nbformat

    nb = mask_notebook(nbformat.read(str(notebook), as_version=4), redactor)
    fragment = report_fragment(nb)
    if fragment is not None:
        match = re.search(r'data-title="([^"]*)"', fragment)
        body = document(fragment, unescape(match.group(1)) if match else "o365check support report")
    else:
        from nbconvert import HTMLExporter

        nb.cells = [c for c in nb.cells if not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))]
        exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
        nb.metadata["title"] = f"o365check: {Path(notebook).stem} (outputs only)"
        body, _resources = exporter.from_notebook_node(nb)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(redactor.text(body), encoding="utf-8")
    return html_path


def run_support_notebook(
    notebook: str | Path,
    output: str | Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    html: str | Path | None = None,
    settings: Settings | None = None,
    timeout: int = 120,
) -> tuple[Path, Path | None]:
    """Execute ``notebook`` with non-secret ``parameters``; write the masked result (and HTML).

    ``settings`` (default ``Settings.from_env()``) names the secrets to mask: the same ones the
    kernel reads from the environment. A cell that fails (the support notebook's last cell fails
    on purpose when the check failed) still leaves a masked notebook and an HTML page behind.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    parameters = dict(parameters or {})
    _refuse_secret_parameters(parameters)
    check_scenario_name(str(parameters.get("scenario") or ""))
    redactor = (settings if settings is not None else Settings.from_env()).redactor()
    notebook, output = Path(notebook), Path(output)
    if not notebook.is_file():
        raise UsageError(f"notebook {str(notebook)!r} does not exist. Fix: give the path of an .ipynb file")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            cwd=str(notebook.parent.resolve()),
            kernel_name="python3",
            progress_bar=False,
            store_widget_state=False,
            execution_timeout=timeout,
        )
    except PapermillExecutionError:
        pass  # the executed notebook holds the error (masked below); the exit code says it failed
    finally:
        if output.is_file():  # mask before anything else can read it, whatever happened
            nbformat.write(mask_notebook(nbformat.read(str(output), as_version=4), redactor), str(output))
    html_path = write_html_report(output, html, redactor) if html is not None else None
    return output, html_path


def _parse_value(text: str) -> Any:
    """Parameter values as papermill's CLI reads them: numbers and booleans, else the text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m o365check.notebook_report IN OUT [-p NAME VALUE]... [--html FILE]``."""
    parser = argparse.ArgumentParser(
        prog="python -m o365check.notebook_report",
        description="Run a notebook headless with papermill (normally notebooks/10-support-check.ipynb), write the "
        "executed notebook with every output masked, and an HTML report. Secrets come from environment variables "
        "(AZURE_CLIENT_SECRET...), never from parameters. `o365check report --notebook OUT` does the same.",
        epilog="Exit codes: 0 the check passed, 1 it failed (or a cell failed), 2 unusable input. Example: "
        "AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=... python -m o365check.notebook_report "
        "notebooks/10-support-check.ipynb out/support.ipynb -p scenario ''",
    )
    parser.add_argument("notebook", help="the notebook to run (.ipynb)")
    parser.add_argument("output", help="where to write the executed notebook (outputs masked)")
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a non-secret parameter, e.g. -p scenario no-admin-consent (repeatable)",
    )
    parser.add_argument("--html", help="where to write the HTML report (default: OUTPUT with .html)")
    args = parser.parse_args(argv)
    html = args.html or str(Path(args.output).with_suffix(".html"))
    try:
        output, html_path = run_support_notebook(
            args.notebook, args.output, html=html, parameters={k: _parse_value(v) for k, v in args.parameter}
        )
    except UsageError as exc:
        parser.exit(2, f"error: {exc}\n")
    code = reported_exit_code(output)
    parser.exit(
        code, f"wrote {output} and {html_path}; the check {'passed' if code == 0 else f'failed (exit code {code})'}\n"
    )


def reported_exit_code(executed: str | Path) -> int:
    """The check's exit code, which the support report carries (``data-exit-code``).

    1 when the notebook shows no report (a cell failed before the check finished).
    """
    import nbformat

    fragment = report_fragment(nbformat.read(str(executed), as_version=4))
    match = re.search(r'data-exit-code="(\d)"', fragment or "")
    return int(match.group(1)) if match else 1


if __name__ == "__main__":
    main()
