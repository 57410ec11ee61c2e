"""One source for the tables Python and the scripts' JavaScript share (issue 14 item 2).

The scope precedence, the substitution depth, the dynamic variables and the library's first line
live in Python; pm.js receives them when the engine starts. These tests hold the two sides equal
by behaviour: the same template resolves the same way in a request and in a script.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from o365check.postman.dynamic import DYNAMIC_VARIABLES
from o365check.postman.scripts import ScriptContext, ScriptEngine
from o365check.postman.variables import MAX_SUBSTITUTION_PASSES, SCOPE_NAMES, VariableScopes


@pytest.fixture(scope="module")
def engine() -> Iterator[ScriptEngine]:
    with ScriptEngine(timeout_ms=5000) as eng:
        yield eng


def _in_script(engine: ScriptEngine, template: str, **scopes: dict[str, object]) -> str:
    context = ScriptContext(
        listen="prerequest",
        info={"requestName": "r", "iteration": 0},
        request={"url": "http://127.0.0.1/", "method": "GET"},
        scopes=scopes,
    )
    outcome = engine.run(f"pm.environment.set('out', pm.variables.replaceIn({template!r}));", context)
    assert outcome.error is None, outcome.error
    return str(outcome.scopes["environment"]["out"])


def _chain(depth: int) -> dict[str, object]:
    values: dict[str, object] = {f"v{i}": "{{v%d}}" % (i + 1) for i in range(depth)}
    values[f"v{depth}"] = "END"
    return values


def test_nested_references_stop_at_the_same_depth_in_requests_and_scripts(engine: ScriptEngine) -> None:
    chain = _chain(30)
    in_request = VariableScopes(collection=chain).resolve("{{v0}}")
    in_script = _in_script(engine, "{{v0}}", collectionVariables=chain)
    # Newman 6.2 gives {{v19}} for this chain in both places (measured; runner-facts §5).
    assert in_request == in_script == "{{v%d}}" % MAX_SUBSTITUTION_PASSES == "{{v19}}"


def test_a_chain_within_the_limit_resolves_fully_on_both_sides(engine: ScriptEngine) -> None:
    chain = _chain(MAX_SUBSTITUTION_PASSES - 1)
    assert VariableScopes(collection=chain).resolve("{{v0}}") == "END"
    assert _in_script(engine, "{{v0}}", collectionVariables=chain) == "END"


@pytest.mark.parametrize("name", sorted(DYNAMIC_VARIABLES))
def test_every_dynamic_variable_resolves_in_requests_and_scripts_alike(engine: ScriptEngine, name: str) -> None:
    template = "{{%s}}" % name
    in_request, in_script = VariableScopes().resolve(template), _in_script(engine, template)
    for value in (in_request, in_script):
        assert value and value != template and "{" not in value, (name, value)
    # Same recipe, same layout: the letters and digits differ, the separators between them do not.
    assert re.sub(r"[A-Za-z0-9]+", "x", in_request) == re.sub(r"[A-Za-z0-9]+", "x", in_script), (name, in_script)


def test_an_unknown_dynamic_variable_stays_verbatim_on_both_sides(engine: ScriptEngine) -> None:
    assert VariableScopes().resolve("{{$noSuchThing}}") == "{{$noSuchThing}}"
    assert _in_script(engine, "{{$noSuchThing}}") == "{{$noSuchThing}}"


def test_scope_precedence_is_the_same_on_both_sides(engine: ScriptEngine) -> None:
    python_keyword = {"local": "local", "iterationData": "data", "environment": "environment"}
    python_keyword |= {"collectionVariables": "collection", "globals": "globals_"}
    # Define the name in every scope from the lowest up to each one: the highest defined must win.
    for top in range(len(SCOPE_NAMES)):
        defined = SCOPE_NAMES[top:]
        scopes = {scope: {"x": scope} for scope in defined}
        in_request = VariableScopes(**{python_keyword[s]: v for s, v in scopes.items()}).resolve("{{x}}")
        assert in_request == _in_script(engine, "{{x}}", **scopes) == SCOPE_NAMES[top]


def test_errors_in_a_script_name_the_scripts_own_line(engine: ScriptEngine) -> None:
    """pm.js tells the user's frames from its own by the library's first line, which Python sets."""
    context = ScriptContext(listen="prerequest", info={}, request={"url": "http://127.0.0.1/", "method": "GET"})
    outcome = engine.run("var a = 1;\nvar b = 2;\nnull.boom;", context)
    assert outcome.error is not None and outcome.error.line == 3
