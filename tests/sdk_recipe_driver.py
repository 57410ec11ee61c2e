"""Run one Python recipe of docs/sdk-recipes.md once per scenario, in one process, as a user
would: the CA variables are in the environment from the start (clients such as aiohttp read
them once, at import), the scenario's URL and credentials are set before each run.

    python tests/sdk_recipe_driver.py RECIPE SCENARIOS_JSON  ->  one JSON line per scenario
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sdk_recipes import classify, exception_text, python_recipe


class _Errors(logging.Handler):
    """python-o365 reports refusals through logging, not through its return value."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def main(recipe: str, scenarios_file: str) -> None:
    warnings.simplefilter("ignore")
    code = compile(python_recipe(recipe), f"<recipe {recipe}>", "exec")
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    for scenario, variables in json.loads(Path(scenarios_file).read_text()).items():
        os.environ.update(variables)
        errors.lines.clear()
        try:
            exec(code, {"__name__": "__recipe__"})
            observation = {"sent": True}
        except Exception as error:  # what the client raised is the observation
            found = classify(exception_text(error) + "\n" + "\n".join(errors.lines), type(error).__name__)
            observation = {"sent": False, "code": found.code, "surfaced_as": found.surfaced_as}
        print(json.dumps({"scenario": scenario, **observation}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
