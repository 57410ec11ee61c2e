"""Running the recipes of docs/sdk-recipes.md against served sandboxes, and reading what each
client reported: the code blocks are taken from the doc itself, so the doc is what is tested."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "sdk-recipes.md"
RESULTS = ROOT / "build" / "sdk-recipe-results.json"
NODE_MODULES = ROOT / ".ci" / "sdk" / "node_modules"
COLLECTION = ROOT / "collections" / "office365-sendmail.postman_collection.json"

RECIPE = re.compile(r"<!-- recipe: ([\w-]+) -->\n```(\w+)\n(.*?)```", re.S)
AADSTS = re.compile(r"AADSTS\d+")
GRAPH_CODE = re.compile(r"""["']?code["']?\s*[:=]\s*["']([A-Za-z][A-Za-z.]+)["']""")
MSAL_ERROR_CODE = re.compile(r"""errorCode["']?\s*:\s*["']([a-z_]+)["']""")  # msal-node's own errors


def read_recipes(doc: Path = DOC) -> dict[str, tuple[str, str]]:
    """``name -> (language, code)`` for every ``<!-- recipe: name -->`` block."""
    return {name: (language, code) for name, language, code in RECIPE.findall(doc.read_text(encoding="utf-8"))}


@dataclass(frozen=True)
class Observation:
    """What one client reported in one scenario: ``sent``, or the code and how it surfaced."""

    sent: bool
    code: str | None = None
    surfaced_as: str = ""  # exception class, or "HTTP 401" for runners that report responses

    @property
    def cell(self) -> str:
        if self.sent:
            return "sent"
        return f"{self.code or '(no code)'} · {self.surfaced_as}"


def classify(text: str, surfaced_as: str) -> Observation:
    """The first AADSTS code in ``text``, else the first Graph error code."""
    found = AADSTS.search(text)
    if found:
        return Observation(False, found.group(0), surfaced_as)
    found = GRAPH_CODE.search(text) or MSAL_ERROR_CODE.search(text)
    return Observation(False, found.group(1) if found else None, surfaced_as)


def exception_text(error: BaseException) -> str:
    """Everything an exception carries: its chain, and a Graph/HTTP error's body."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        odata = getattr(current, "error", None)
        if getattr(odata, "code", None):
            parts.append(f'"code": "{odata.code}"')
        response = getattr(current, "response", None)
        if response is not None and hasattr(response, "text"):
            parts.append(str(response.text))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def python_recipe(name: str, recipes: dict[str, tuple[str, str]] | None = None) -> str:
    """The recipe's code; the certificate variant is the msgraph-sdk recipe with its credential swapped
    (the doc shows only the lines that change)."""
    recipes = recipes or read_recipes()
    if name == "msgraph-sdk-certificate":
        base = recipes["msgraph-sdk"][1]
        start = base.index("credential = ClientSecretCredential(")
        end = base.index("auth = AzureIdentityAuthenticationProvider(")
        return base[:start] + recipes[name][1] + "\n" + base[end:]
    return recipes[name][1]


def run_subprocess(command: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return done.returncode, done.stdout + "\n" + done.stderr


def exception_name_from_output(text: str) -> str:
    """The error class a Node/Python process printed (``ServerError: ...``, ``GraphError {``)."""
    found = re.search(r"^(\w*Error)\b", text, re.M)
    return found.group(1) if found else "exit 1"


def node_env(base: dict[str, str]) -> dict[str, str]:
    return {**base, "NODE_PATH": str(NODE_MODULES)}


def save_results(observed: dict[str, dict[str, Observation]]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for client, cells in observed.items():
        previous[client] = {scenario: obs.cell for scenario, obs in cells.items()}
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")  # scenarios in SCENARIOS order


def process_env(variables: list[tuple[str, str]]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")}
    return {**keep, **dict(variables)}
