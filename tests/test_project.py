"""Project hygiene: environment.yml agrees with pyproject.toml; the README documents every command."""

import re
import tomllib
from pathlib import Path

import click

from o365check.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = data["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {re.split(r"[<>=!~ ]", r, maxsplit=1)[0].lower(): r.replace(" ", "") for r in requirements}


def _environment_requirements():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    found = {}
    for line in lines[start + 1 :]:
        item = line.split("#", 1)[0].strip()
        if not item.startswith("- ") or item.startswith("- -e"):
            continue
        requirement = item[2:].replace(" ", "")
        found[re.split(r"[<>=!~]", requirement, maxsplit=1)[0].lower()] = requirement
    return found


def test_environment_yml_installs_the_same_dependencies_as_pyproject():
    assert _environment_requirements() == _pyproject_requirements()
    assert "- -e . --no-deps" in (ROOT / "environment.yml").read_text()


def _commands(group, prefix=""):
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _commands(command, full + " ")
        else:
            yield full


def test_every_cli_command_is_in_the_readme_and_has_an_example():
    readme = (ROOT / "README.md").read_text()
    missing = [c for c in _commands(main) if f"o365check {c}" not in readme]
    assert missing == []
    for name in _commands(main):
        command = main
        for part in name.split():
            command = command.commands[part]
        assert "Example" in (command.help or ""), f"`o365check {name} --help` has no example"


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    head = readme[: readme.index("## Using your own tenant")]
    assert "make demo" in head and "make test" in head


def test_gitignore_keeps_the_venv_and_env_file_out():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".venv/" in ignored and ".env" in ignored


def test_every_run_event_is_documented_in_the_readme():
    import dataclasses

    from o365check.postman import events

    readme = (ROOT / "README.md").read_text()
    names = [
        name
        for name, value in vars(events).items()
        if isinstance(value, type)
        and dataclasses.is_dataclass(value)
        and issubclass(value, events.Event)
        and value is not events.Event
    ]
    assert names, "no event classes found"
    assert [n for n in names if f"| `{n}` |" not in readme] == []


def _locked_versions():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_the_lock_pins_every_dependency_within_pyprojects_ranges():
    from packaging.requirements import Requirement

    pins = _locked_versions()
    for text in _pyproject_requirements().values():
        requirement = Requirement(text)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is in pyproject.toml but not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {requirement.specifier}: run `make lock`"
        )
