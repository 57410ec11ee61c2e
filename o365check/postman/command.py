"""Everything ``o365check run`` does, behind one function: ``run_collection_cli(options) -> exit code``.

``cli.py`` only turns click options into ``RunOptions``. This module loads the inputs, builds the
session (sandbox routing, CA, ``--insecure``), wires the reporters to the runner and writes the
exports. Exit codes: 0 passed, 1 a test failed or a request errored, 2 unusable input, 3 could not
connect (``o365check.errors``).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

import requests

from ..diagnosis import DiagnosisContext
from ..errors import O365CheckError, UsageError
from ..redact import MASK, MaskedStream, RedactingFilter, Redactor
from ..transport import choose_cassette, describe_recording, open_transport
from ..user_files import open_private_text, write_private_text
from .loading import load_collection, load_environment, load_globals, load_iteration_data, parse_variable_assignment
from .model import VariableFile
from .reporters.cli import CliReporter
from .reporters.json_report import JsonReporter
from .reporters.junit import JUnitReporter
from .runner import CollectionRun, RunConfig
from .summary import RunSummary

__all__ = ["RunOptions", "run_collection_cli"]

REPORTERS = ("cli", "json", "junit")


@dataclass
class RunOptions:
    """The options of ``o365check run`` (Newman's names where Newman has them)."""

    collection: str
    environment: str | None = None  # -e
    globals: str | None = None  # -g
    iteration_data: str | None = None  # -d
    iterations: int | None = None  # -n
    folders: list[str] = field(default_factory=list)  # --folder (repeatable)
    bail: bool = False
    delay_request: int = 0  # ms
    timeout_request: int | None = None  # ms
    timeout: int | None = None  # ms, whole run
    timeout_script: int | None = None  # ms
    insecure: bool = False
    ca_cert: str | None = None
    sandbox: str | None = None  # scenario name
    export_environment: str | None = None
    export_globals: str | None = None
    export_secrets: bool = False
    reporters: list[str] = field(default_factory=lambda: ["cli"])  # -r cli,json,junit
    reporter_json_export: str | None = None
    reporter_junit_export: str | None = None
    env_vars: list[str] = field(default_factory=list)  # --env-var k=v
    global_vars: list[str] = field(default_factory=list)  # --global-var k=v
    allow_secret_to: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # --secret NAME: treat this variable as a secret
    working_dir: str | None = None  # body files are read only under it (default: the collection's folder)
    insecure_file_read: bool = False  # allow body files outside the working directory
    record: str | None = None
    replay: str | None = None
    no_color: bool = False
    env_file: str | None = None  # a .env file: its AZURE_*/O365CHECK_* values become tenant_id, client_id...
    verbose: bool = False  # every request and response, masked, on stderr (Newman's --verbose)
    debug: bool = False  # log every exchange (masked) to stderr


def _sandbox_environment(scenario: str, base: VariableFile | None) -> tuple[Any, VariableFile]:
    """The sandbox and an environment holding its bases and the scenario's typed credentials.

    The scenario's values win over ``-e`` (they are what the scenario is about); other keys stay.
    """
    from ..sandbox import SCENARIOS, Sandbox

    if scenario not in SCENARIOS:
        raise UsageError(f"--sandbox {scenario!r} is not a scenario; use one of: {', '.join(SCENARIOS)}")
    box = Sandbox(scenario)
    with tempfile.TemporaryDirectory() as tmp:
        written = load_environment(box.write_postman_environment(Path(tmp) / "sandbox.postman_environment.json"))
    if base is not None:
        keys = {v.key for v in written.values}
        written.values = [v for v in base.values if v.key not in keys] + written.values
        written.name, written.id = base.name, base.id
    return box, written


def _describe_recording(recorder: Any, options: RunOptions, environment: VariableFile | None) -> None:
    """Store the environment beside the interactions, secrets replaced by stand-ins, so the replay
    needs no -e and no secret. Secret values are also masked wherever else they appear."""
    from ..recording import stand_in_secret
    from ..redact import is_secret_name

    values = []
    for variable in environment.values if environment else []:
        value = "" if variable.value is None else str(variable.value)
        if value and (variable.secret or is_secret_name(variable.key)):
            recorder.redactor.add(value)
            value = stand_in_secret(value)
        values.append(
            {"key": variable.key, "value": value, "type": variable.type or "default", "enabled": not variable.disabled}
        )
    against = (
        f"the o365check sandbox, scenario {options.sandbox!r} (not a real tenant)"
        if options.sandbox
        else "the hosts the collection names"
    )
    describe_recording(
        recorder,
        target=f"sandbox scenario {options.sandbox!r}" if options.sandbox else "live",
        against=against,
        collection=Path(options.collection).name,
        environment={"name": environment.name if environment else "", "values": values},
    )


def _recorded_environment(recorder: Any, given: VariableFile | None) -> VariableFile | None:
    """The environment the cassette was recorded with; keys of ``-e`` win."""
    recorded = recorder.metadata.get("environment")
    if not recorded:
        return given
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recorded.postman_environment.json"
        path.write_text(json.dumps(recorded), encoding="utf-8")
        written = load_environment(path)
    if given is not None:
        keys = {v.key for v in given.values}
        written.values = [v for v in written.values if v.key not in keys] + given.values
        written.name, written.id = given.name, given.id
    return written


def _env_file_variables(path: str) -> dict[str, str]:
    """The settings of a .env file as the collection's variable names (tenant_id, client_id, ...).

    Reading it through Settings gives the same errors as every other command: a syntax error with its
    line, a file whose keys o365check does not read (listed, with the names it would read).
    """
    from ..settings import POSTMAN_KEYS, Settings

    settings = Settings.from_env({}, env_file=path)
    variables: dict[str, str] = {}
    for name, keys in POSTMAN_KEYS.items():
        value = getattr(settings, name, None)
        if value:
            variables[keys[0]] = value.reveal() if hasattr(value, "reveal") else str(value)
    return variables


def _empty_secrets(collection: Any, environment: VariableFile | None, given: set[str]) -> list[str]:
    """Secret variables of ``-e`` that are empty yet used by the collection (``{{client_secret}}``)."""
    from ..redact import is_secret_name

    if environment is None:
        return []
    text = json.dumps(collection.source)
    return [
        v.key
        for v in environment.values
        if not v.disabled
        and v.value in (None, "")
        and (v.secret or is_secret_name(v.key))
        and v.key not in given
        and "{{" + v.key + "}}" in text
    ]


def _target_description(options: RunOptions, recorder: Any) -> str:
    if recorder is not None and recorder.replaying:
        recorded = recorder.metadata.get("target") or "an unnamed target"
        return f"replaying {options.replay} (network blocked; recorded against {recorded})"
    if options.sandbox:
        return (
            f"SANDBOX sandbox scenario {options.sandbox!r}: the built-in sandbox answers for the Microsoft hosts, "
            "not a real tenant (asked for with --sandbox)"
        )
    return "live: requests go to the hosts the collection names"


def _diagnosis_context(run: CollectionRun) -> DiagnosisContext:
    """The tenant, client and sender the collection uses, to fill the diagnosis' commands and links."""

    def value(*names: str) -> str:
        for name in names:
            found, v = run.scopes.lookup(name)
            if found and v and "{{" not in str(v):
                return str(v)
        return ""

    return DiagnosisContext(
        tenant=value("tenant_id", "TenantId", "tenant"),
        client_id=value("client_id", "ClientId"),
        sender=value("sender", "UserId"),
    )


def _assignments(texts: list[str], option: str) -> dict[str, str]:
    return dict(parse_variable_assignment(t, option) for t in texts)


def _export_scope(path: str, run: CollectionRun, scope: str, reveal: bool) -> None:
    """Write the final environment or globals (owner-only, atomically; secrets masked unless asked)."""
    document = run.export_scope(scope)
    text = json.dumps(document, indent=2) + "\n"
    if not reveal:
        document = run.redactor.data(document)
        for entry in document["values"]:
            if entry["key"] in run.secret_keys and entry["value"] not in (None, ""):
                entry["value"] = MASK
        text = run.redactor.text(json.dumps(document, indent=2)) + "\n"
    write_private_text(path, text, f"--export-{scope}")


def _masked_logging(err: TextIO, run: CollectionRun, debug: bool) -> logging.Handler:
    """Log lines on stderr, masked by the run's redactor: every exchange with --debug, else the
    warnings libraries log (which Python's last-resort handler would print unmasked)."""
    handler = logging.StreamHandler(err)
    handler.addFilter(RedactingFilter(run.redactor))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    if debug:
        root.setLevel(logging.DEBUG)
    return handler


def run_collection_cli(
    options: RunOptions,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    *,
    session: requests.Session | None = None,
) -> int:
    """Run a collection as ``o365check run`` does and return the exit code.

    ``session`` replaces the session built from the options (embedding, tests); sandbox routing
    and CA options then are the caller's business.
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        unknown = [r for r in options.reporters if r not in REPORTERS]
        if unknown:
            raise UsageError(f"-r {','.join(unknown)}: unknown reporter; use any of {', '.join(REPORTERS)}")
        collection = load_collection(options.collection)
        environment = load_environment(options.environment) if options.environment else None
        globals_ = load_globals(options.globals) if options.globals else None
        data = load_iteration_data(options.iteration_data, options.iterations) if options.iteration_data else None
        if options.iterations is not None and options.iterations < 1:
            raise UsageError(f"-n {options.iterations}: the number of iterations must be at least 1")
        box = None
        # --record / --replay / O365CHECK_CASSETTE: decided where every command decides it.
        recorder = choose_cassette(options.record, options.replay)
        if recorder is not None and recorder.replaying:
            environment = _recorded_environment(recorder, environment)
        elif options.sandbox:
            box, environment = _sandbox_environment(options.sandbox, environment)
        if recorder is not None and not recorder.replaying:
            _describe_recording(recorder, options, environment)
        env_vars = _assignments(options.env_vars, "--env-var")
        if options.env_file:
            env_vars = {**_env_file_variables(options.env_file), **env_vars}
        empty = [] if box is not None else _empty_secrets(collection, environment, set(env_vars))
        if empty:
            from ..settings import empty_value_fix

            names = ", ".join(repr(k) for k in empty)
            raise UsageError(
                f"{names} in {options.environment} {'is' if len(empty) == 1 else 'are'} empty but the collection "
                f"uses {'it' if len(empty) == 1 else 'them'}. "
                + empty_value_fix("postman", f"pass --env-var {empty[0]}=... (or --env-file with AZURE_CLIENT_SECRET)")
            )
        for source in (environment, globals_):
            if source is not None:
                collection.warnings += [f"{Path(source.path or '').name}: {w}" for w in source.warnings]
        config = RunConfig(
            environment=environment,
            globals=globals_,
            iteration_data=data,
            iterations=options.iterations,
            folders=list(options.folders),
            env_vars=env_vars,
            global_vars=_assignments(options.global_vars, "--global-var"),
            bail=options.bail,
            delay_request_ms=options.delay_request,
            timeout_request_ms=options.timeout_request,
            timeout_ms=options.timeout,
            timeout_script_ms=options.timeout_script,
            allow_secret_to=list(options.allow_secret_to),
            secret_names=list(options.secrets),
            base_dir=Path(options.working_dir) if options.working_dir else Path(options.collection).parent,
            insecure_file_read=options.insecure_file_read,
            verify=False if options.insecure else (options.ca_cert or True),
        )
        if session is None:
            session, _, _ = open_transport(
                sandbox=box,
                recorder=recorder,
                verify=config.verify,
                allow_secret_to=options.allow_secret_to,
                timeout=options.timeout_request / 1000 if options.timeout_request else None,
            )
        run = CollectionRun(
            collection, config, session=session, redactor=recorder.redactor if recorder is not None else None
        )
        if options.verbose:
            from ..verbose import attach_verbose

            attach_verbose(session, run.redactor, err)
    except O365CheckError as exc:
        err.write(f"error: {_early_redactor(options).text(str(exc))}\n")
        return exc.exit_code

    # Every stream and file a reporter writes passes the run's redactor once more (issue 9 item 4).
    console = cast(TextIO, MaskedStream(out, run.redactor, console=True))
    errors = cast(TextIO, MaskedStream(err, run.redactor, console=True))
    level = logging.getLogger().level
    handler = _masked_logging(errors, run, options.debug)
    summary = RunSummary()
    try:
        with ExitStack() as stack:
            listeners: list[Any] = [summary]
            if "cli" in options.reporters:
                at_terminal = bool(getattr(out, "isatty", lambda: False)())  # colour only on a terminal
                listeners.append(
                    CliReporter(
                        console,
                        summary,
                        color=at_terminal and not options.no_color,
                        context=_diagnosis_context(run),
                        target=_target_description(options, recorder),
                    )
                )
            if "json" in options.reporters:
                path = options.reporter_json_export or f"newman-run-report-{Path(options.collection).stem}.json"
                stream = cast(
                    TextIO, MaskedStream(stack.enter_context(open_private_text(path, "JSON report")), run.redactor)
                )
                listeners.append(JsonReporter(stream, summary, collection=run.redactor.data(collection.source)))
            if "junit" in options.reporters:
                path = options.reporter_junit_export or f"newman-run-report-{Path(options.collection).stem}.xml"
                stream = cast(
                    TextIO, MaskedStream(stack.enter_context(open_private_text(path, "JUnit report")), run.redactor)
                )
                listeners.append(JUnitReporter(stream, summary))
            for event in run.events():
                for listener in listeners:
                    listener.handle(event)
            for listener in listeners[1:]:
                listener.close()
                getattr(listener, "out", console).flush()  # a MaskedStream holds back its tail until then
        if recorder is not None:
            recorder.close()
        if options.export_environment:
            _export_scope(options.export_environment, run, "environment", options.export_secrets)
        if options.export_globals:
            _export_scope(options.export_globals, run, "globals", options.export_secrets)
    except O365CheckError as exc:  # a report or export that cannot be written (full disk, a FIFO...)
        console.flush()
        errors.write(f"error: {exc}\n")
        errors.flush()
        return exc.exit_code
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    console.flush()
    errors.flush()
    return summary.exit_code


def _early_redactor(options: RunOptions) -> Redactor:
    """Masks an error raised before the run exists (an --env-var value, say)."""
    from ..redact import is_secret_name

    redactor = Redactor()
    for text in (*options.env_vars, *options.global_vars):
        key, _, value = text.partition("=")
        if is_secret_name(key) or not _:
            redactor.add(value or None)
    return redactor
