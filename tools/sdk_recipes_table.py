"""Write the results table of docs/sdk-recipes.md from build/sdk-recipe-results.json.

    python tools/sdk_recipes_table.py [RESULTS_JSON]

tests/test_sdk_recipes.py runs every recipe against every sandbox scenario and writes the JSON
(``{client: {scenario: cell}}``); this script only renders it between the doc's
``<!-- results:begin -->`` / ``<!-- results:end -->`` markers, so the table is never typed by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "sdk-recipes.md"
RESULTS = ROOT / "build" / "sdk-recipe-results.json"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
# Column order and headings (the recipe names of the doc).
CLIENTS = {
    "msgraph-sdk": "azure-identity + msgraph-sdk",
    "msgraph-sdk-certificate": "same, certificate",
    "msal-python": "MSAL Python",
    "python-o365": "python-o365",
    "curl": "curl",
    "msal-node": "msal-node",
    "graph-js": "@azure/identity + graph client",
    "postman": "Postman (Newman)",
}


def render(results: dict[str, dict[str, str]]) -> str:
    clients = [c for c in CLIENTS if c in results]
    scenarios = list(dict.fromkeys(s for c in clients for s in results[c]))
    lines = [
        "| scenario | " + " | ".join(CLIENTS[c] for c in clients) + " |",
        "|---|" + "---|" * len(clients),
    ]
    for scenario in scenarios:
        cells = [results[c].get(scenario, "(not run)") for c in clients]
        lines.append(f"| `{scenario}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def read_table(doc: Path = DOC) -> dict[str, dict[str, str]]:
    """The doc's table back as ``{client: {scenario: cell}}``."""
    text = doc.read_text(encoding="utf-8")
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip().splitlines()
    if len(block) < 2:
        return {}
    headings = [h.strip() for h in block[0].strip("|").split("|")][1:]
    by_heading = {v: k for k, v in CLIENTS.items()}
    clients = [by_heading[h] for h in headings]
    table: dict[str, dict[str, str]] = {c: {} for c in clients}
    for row in block[2:]:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        scenario = cells[0].strip("`")
        for client, cell in zip(clients, cells[1:], strict=True):
            table[client][scenario] = cell
    return table


def write_table(results: dict[str, dict[str, str]], doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{render(results)}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else RESULTS
    if not source.exists():
        print(f"{source} not found: run `python -m pytest tests/test_sdk_recipes.py` first", file=sys.stderr)
        return 2
    results = json.loads(source.read_text(encoding="utf-8"))
    unknown = sorted(set(results) - set(CLIENTS))
    if unknown:
        print(f"{source}: unknown client(s) {unknown}; known: {list(CLIENTS)}", file=sys.stderr)
        return 2
    write_table(results)
    print(f"{DOC.relative_to(ROOT)}: table written for {len(results)} client(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
