"""docs/architecture.md stays true: every name it lists exists where it says (issue 14 item 6).

Checked: each row of the module table (its module, and in its last column every backticked call,
``name(...)``, and every backticked capitalised name, ``Settings`` or ``MASK``; lower-case bare words
there are values or terms: ``live``, ``sendMail``), and every ``from o365check... import ...`` line
in its code blocks.
"""

from __future__ import annotations

import importlib
import re
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\(?)")


def _module_for(cell: str) -> str:
    """`errors.py` -> o365check.errors; `sandbox/` -> o365check.sandbox; `postman/reporters/` too."""
    path = cell.strip().strip("`").removesuffix(".py").rstrip("/")
    return "o365check." + path.replace("/", ".")


def _table_rows() -> list[tuple[str, list[str]]]:
    rows = []
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"`[a-z_/]+(\.py|/)`", cells[0]):
            continue
        names = []
        for token in re.findall(r"`([^`]+)`", cells[-1]):
            match = _NAME.match(token)
            if match and not token.startswith((".", '"')) and (match[2] or match[1][0].isupper()):
                names.append(match[1])
        rows.append((_module_for(cells[0]), names))
    return rows


ROWS = _table_rows()


def _resolve(module: object, dotted: str) -> object:
    value = module
    for part in dotted.split("."):
        if not hasattr(value, part) and isinstance(value, types.ModuleType):
            try:  # a submodule the doc names through its package (postman.command.run_collection_cli)
                importlib.import_module(f"{value.__name__}.{part}")
            except ImportError:
                pass
        value = getattr(value, part)
    return value


def test_the_table_lists_modules() -> None:
    assert len(ROWS) > 15


@pytest.mark.parametrize(("module_name", "names"), ROWS, ids=[m for m, _ in ROWS])
def test_every_name_in_the_module_table_exists(module_name: str, names: list[str]) -> None:
    module = importlib.import_module(module_name)
    missing = []
    for name in names:
        try:
            _resolve(module, name)
        except AttributeError:
            missing.append(name)
    assert not missing, f"docs/architecture.md lists names {module_name} does not have: {missing}"


def test_every_import_in_the_code_blocks_works() -> None:
    lines = re.findall(r"^\s*(from o365check[\w.]* import [\w, ]+)", DOC, flags=re.MULTILINE)
    assert lines
    for line in lines:
        exec(line, {})


def _imports_of_ours(path: Path) -> list[tuple[str, str]]:
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("o365check"):
            found += [(node.module or "", alias.name) for alias in node.names]
    return found


def test_cli_and_widgets_use_only_public_names() -> None:
    """The front ends stay thin: only what a module lists in ``__all__`` (or a submodule), no ``_private``."""
    files = [ROOT / "o365check" / "cli.py", *sorted((ROOT / "o365check" / "widgets").glob("*.py"))]
    offending = []
    for path in files:
        for module_name, name in _imports_of_ours(path):
            module = importlib.import_module(module_name)
            public = getattr(module, "__all__", None)
            is_submodule = isinstance(getattr(module, name, None), types.ModuleType)
            if name.startswith("_") or (public is not None and name not in public and not is_submodule):
                offending.append(f"{path.name}: from {module_name} import {name}")
    assert not offending, offending
