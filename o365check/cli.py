"""The ``o365check`` command. The only module that imports click; thin over the public API.

Exit codes: 0 every check passed; 1 a check or assertion failed; 2 unusable input; 3 a service
could not be reached.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from . import __version__

NO_COLOR = "NO_COLOR" in os.environ  # https://no-color.org: any value disables colour


def _style(text: str, **kwargs: Any) -> str:
    return text if NO_COLOR else click.style(text, **kwargs)


class _Group(click.Group):
    """Maps o365check errors to their message, diagnosis and exit code: never a traceback for a user mistake."""

    def invoke(self, ctx: click.Context) -> Any:
        from .errors import O365CheckError

        try:
            return super().invoke(ctx)
        except O365CheckError as exc:
            redactor = ctx.meta.get("o365check.redactor")
            _echo_error(exc, redactor, ctx.meta.get("o365check.settings"))
            ctx.exit(exc.exit_code)


def _echo_error(exc: Exception, redactor: Any = None, settings: Any = None) -> None:
    """The error, then its diagnosis filled with the user's values (the settings in use, if known)."""
    from .diagnosis import DiagnosisContext, diagnose, format_diagnosis
    from .errors import SettingsError
    from .redact import Redactor

    redactor = redactor or Redactor()
    click.echo(redactor.text(_style("Error: ", fg="red", bold=True) + str(exc)), err=True)
    if isinstance(exc, SettingsError):  # its message already lists every field, value and fix
        return
    context = (
        DiagnosisContext(settings.tenant_id, settings.client_id, settings.sender, settings.cloud)
        if settings is not None
        else None
    )
    diagnosis = diagnose(exc, context)
    if diagnosis is not None and diagnosis.title:
        click.echo(redactor.text(_indent(format_diagnosis(diagnosis), 2)), err=True)


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="o365check")
@click.option("--debug", is_flag=True, help="Log every request (secrets masked) to stderr.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Check an Entra ID app that sends mail through Microsoft Graph (client credentials).

    With nothing given (no option, no --env-file/-e, no AZURE_* variable) or with --sandbox, everything runs
    against the built-in sandbox tenant, and every command says so on its first line.

    \b
    Examples:
        o365check doctor                       # the whole check against the sandbox
        o365check doctor --sandbox wrong-secret
        o365check doctor --env-file .env       # your own tenant
        o365check sandbox scenarios
    """
    ctx.meta["o365check.debug"] = debug
    _tolerate_unencodable_output()


def _tolerate_unencodable_output() -> None:
    """An argument or file holding bytes that are not UTF-8 (surrogates) is shown escaped, never a crash."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


# ---------------------------------------------------------------------------- settings options
ALL_FIELDS = ("tenant_id", "client_id", "client_secret", "certificate_path", "sender", "recipient", "cloud")
_SOURCE_NAMES = ("env_file", "postman_environment", "sandbox")


def _field_options() -> dict[str, Callable[..., Any]]:
    return {
        "tenant_id": click.option(
            "--tenant-id", metavar="GUID|DOMAIN", help="Directory (tenant) ID. [env: AZURE_TENANT_ID]"
        ),
        "client_id": click.option(
            "--client-id", metavar="GUID", help="Application (client) ID. [env: AZURE_CLIENT_ID]"
        ),
        "client_secret": click.option(
            "--client-secret",
            metavar="VALUE",
            help="Client secret value; prefer the env var, options show up in process lists. [env: AZURE_CLIENT_SECRET]",
        ),
        "certificate_path": click.option(
            "--certificate",
            "certificate_path",
            metavar="PEM",
            help="PEM with private key and certificate. [env: AZURE_CLIENT_CERTIFICATE_PATH]",
        ),
        "sender": click.option("--sender", metavar="ADDRESS", help="Mailbox the app sends as. [env: O365CHECK_SENDER]"),
        "recipient": click.option(
            "--to",
            "recipient",
            metavar="ADDRESS",
            help="Recipient of the test message (default: the sender itself). [env: O365CHECK_RECIPIENT]",
        ),
        "cloud": click.option(
            "--cloud",
            type=click.Choice(["global", "usgov", "usgov-dod", "china"]),
            help="National cloud. [env: O365CHECK_CLOUD]",
        ),
    }


def _source_options() -> list[Callable[..., Any]]:
    """The settings sources every tenant command takes, whatever values it needs."""
    return [
        click.option(
            "--env-file",
            type=click.Path(dir_okay=False),
            help="A .env file with the AZURE_*/O365CHECK_* variables (wins over the shell's environment).",
        ),
        click.option(
            "-e",
            "--environment",
            "postman_environment",
            type=click.Path(dir_okay=False),
            help="A Postman environment file (tenant_id, client_id, client_secret, sender...).",
        ),
        click.option(
            "--sandbox",
            "sandbox",
            is_flag=False,
            flag_value="ok",
            default=None,
            metavar="[SCENARIO]",
            help="Use the built-in sandbox tenant (also used when nothing at all is given); optionally a scenario.",
        ),
    ]


def settings_options(command: Callable[..., Any] | None = None, *, fields: tuple[str, ...] = ALL_FIELDS) -> Any:
    """The settings options of a command: the value options it uses (``fields``) plus every source.

    The command gets ``settings`` (None for a group whose subcommand runs: the subcommand reads its own).
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [_field_options()[name] for name in fields] + _source_options()
        for option in reversed(options):
            command = option(command)

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name, None) for name in (*ALL_FIELDS, *_SOURCE_NAMES)}
            ctx = click.get_current_context()
            if getattr(ctx, "invoked_subcommand", None):
                kwargs["settings"] = None
            else:
                kwargs["settings"] = _load_settings(given)
                empty = kwargs["settings"].empty_secret_problem()
                if "client_secret" not in fields and empty is not None and not kwargs["settings"].sandbox:
                    from .errors import SettingsError

                    raise SettingsError([empty])
            return command(*args, **kwargs)

        return wrapper

    return decorate(command) if command is not None else decorate


def _load_settings(given: dict[str, Any]) -> Any:
    """Options over named files (.env over -e) over the shell's environment; see settings.py."""
    from .settings import Settings

    settings = Settings.from_env()
    env_file, postman = given.pop("env_file"), given.pop("postman_environment")
    if postman:
        settings = Settings.from_postman_environment(postman).merged_over(settings)
    if env_file:
        settings = Settings.from_env({}, env_file=env_file).merged_over(settings)
    sandbox = given.pop("sandbox")
    if sandbox is not None:
        _check_scenario(sandbox)
    settings = settings.with_values(**{k: v for k, v in given.items() if v}, sandbox=sandbox)
    from_shell = settings.source_of("sandbox").startswith("environment variable")
    if sandbox is None and settings.sandbox and settings.named and from_shell:
        # The shell asks for the sandbox, the command line names something else: never pick silently.
        raise click.UsageError(
            f"{settings.source_of('sandbox')} asks for the sandbox ({settings.sandbox!r}) but you named "
            f"{', '.join(settings.named)}: unset O365CHECK_SANDBOX to use them, or pass --sandbox to use the sandbox"
        )
    ctx = click.get_current_context()
    ctx.meta["o365check.redactor"] = settings.redactor()
    ctx.meta["o365check.settings"] = settings
    _configure_logging(ctx, settings.redactor())
    return settings


def target_description(target: Any, settings: Any) -> str:
    """What answers, said first by every command: the sandbox is never used without saying so."""
    if target.mode == "replay":
        return f"replaying {target.recorder.path} (network blocked; recorded against {target.label})"
    if target.sandbox is not None:
        why = (
            f"asked for with {settings.source_of('sandbox')}"
            if settings.sandbox
            else "nothing was given: no option, --env-file, -e or AZURE_* variable"
        )
        return f"SANDBOX {target.label}: the built-in sandbox tenant answers, not a real tenant ({why})"
    places = list(dict.fromkeys(_place(where) for where in target.settings.sources.values() if where))
    return f"{target.label}; settings from {', '.join(places) or 'nowhere'}"


def _place(where: str) -> str:
    """'AZURE_TENANT_ID in x.env line 2' -> 'x.env'; "'tenant_id' in env.json" -> 'env.json'."""
    if " in " in where:
        return where.split(" in ", 1)[1].split(" line ")[0].split(", read as")[0]
    return "the environment" if where.startswith("environment variable") else where


def _verbose_to_stderr(target: Any, verbose: bool) -> None:
    if verbose:
        from .verbose import attach_verbose

        attach_verbose(target.session, target.settings.redactor(), sys.stderr)


class _WaitLine:
    """Says each Retry-After wait out loud: a live countdown line on a terminal, one line otherwise."""

    def __init__(self, stream: Any = None, sleep: Callable[[float], None] | None = None):
        import time

        self.stream = stream or sys.stderr
        self._sleep = sleep or time.sleep
        self._why = ""
        self.waits: list[tuple[float, str]] = []

    def announce(self, seconds: float, why: str) -> None:
        self._why = why
        self.waits.append((seconds, why))
        if not self._tty():
            self.stream.write(f"waiting {seconds:g} s: {why}; the check goes on afterwards\n")
            self.stream.flush()

    def sleep(self, seconds: float) -> None:
        if not self._tty():
            self._sleep(seconds)
            return
        left = seconds
        while left > 0:
            self.stream.write(f"\r\x1b[Kwaiting {left:.0f} s of {seconds:g} s: {self._why}")
            self.stream.flush()
            step = min(1.0, left)
            self._sleep(step)
            left -= step
        self.stream.write(f"\r\x1b[Kwaited {seconds:g} s: {self._why}\n")
        self.stream.flush()

    def _tty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())


def _check_scenario(name: str) -> None:
    from .sandbox import SCENARIOS

    if name not in SCENARIOS:
        raise click.BadParameter(
            f"{name!r} is not a sandbox scenario; `o365check sandbox scenarios` lists them: {', '.join(SCENARIOS)}",
            param_hint="--sandbox",
        )


def _configure_logging(ctx: click.Context, redactor: Any) -> None:
    if not ctx.find_root().meta.get("o365check.debug"):
        return
    from .redact import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)


# ---------------------------------------------------------------------------- doctor
MARKS = {
    "passed": ("PASS", "green"),
    "failed": ("FAIL", "red"),
    "skipped": ("SKIP", "yellow"),
    "warning": ("WARN", "yellow"),
    "info": ("INFO", "cyan"),
}


def _echo_step(step: Any, redactor: Any) -> None:
    from .diagnosis import format_diagnosis

    mark, colour = MARKS["warning" if step.status == "passed" and step.warnings else step.status]
    out = [f"{_style(f'[{mark}]', fg=colour, bold=True)} {step.name:<14} {step.title}", f"{'':21}{step.summary}"]
    if step.status == "passed":  # a failure's facts are in its diagnosis (ids included)
        out += [f"{'':21}{key}: {value}" for key, value in step.details if value]
    if step.diagnosis is not None:
        out.append("")
        out.append(_indent(_style("Why: ", fg="red", bold=True) + format_diagnosis(step.diagnosis), 21))
    # A failed step's further findings are errors too ("Also:", after the first); a passed step's are warnings.
    label = "Also: " if step.status == "failed" else "Warning: "
    for warning in step.warnings:
        out.append(_indent(_style(label, fg="yellow", bold=True) + format_diagnosis(warning), 21))
    if step.diagnosis is not None:
        out.append("")
    click.echo(redactor.text("\n".join(out)))


@main.command()
@settings_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--postman", is_flag=True, help="Also send the token request exactly as the guide's Postman test does.")
@click.option(
    "--max-wait",
    type=click.FloatRange(0, 600),
    default=10.0,
    show_default=True,
    help="Longest total wait (seconds) for Retry-After.",
)
@click.option(
    "--record", type=click.Path(dir_okay=False), help="Record every exchange to this cassette (secrets scrubbed)."
)
@click.option(
    "--replay", type=click.Path(dir_okay=False, exists=True), help="Replay this cassette with the network blocked."
)
@click.option("--verbose", is_flag=True, help="Show every request and response (secrets masked) on stderr.")
@click.option(
    "--via",
    type=click.Choice(["graph", "smtp", "both"]),
    default="graph",
    show_default=True,
    help="Check Graph sendMail, SMTP AUTH XOAUTH2 (smtp.office365.com:587), or both.",
)
@click.option("--smtp-scope", default="", metavar="SCOPE", help="With --via smtp: the scope your app asks for.")
@click.option("--smtp-user", default="", metavar="ADDRESS", help="With --via smtp: XOAUTH2 user= (default: sender).")
@click.option("--smtp-no-starttls", is_flag=True, help="With --via smtp: send AUTH without STARTTLS, as your app does.")
def doctor(
    settings: Any,
    as_json: bool,
    postman: bool,
    max_wait: float,
    record: str | None,
    replay: str | None,
    verbose: bool,
    via: str = "graph",
    smtp_scope: str = "",
    smtp_user: str = "",
    smtp_no_starttls: bool = False,
) -> None:
    """Run the whole check: settings, tenant, token, claims, sendMail.

    Each step says passed, failed (with the diagnosis: why, and what to click to fix it) or skipped.

    \b
    Examples:
        o365check doctor
        o365check doctor --sandbox no-admin-consent --json
        o365check doctor --via smtp --sandbox smtp-sp-wrong-object-id
        AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=... O365CHECK_SENDER=... o365check doctor
    """
    from .doctor import build_report, run_doctor
    from .targets import open_target

    if via != "graph":
        from .smtp import SmtpOptions

        options = SmtpOptions(scope=smtp_scope, user=smtp_user, starttls=not smtp_no_starttls)
        _doctor_smtp(settings, as_json, postman, max_wait, record, replay, via, options, verbose)
        return

    recorder = _recorder(record, replay, settings)
    target = open_target(settings, recorder=recorder)
    redactor = target.settings.redactor()
    described = target_description(target, settings)
    if not as_json:
        click.echo(f"o365check doctor: {described}")
    _verbose_to_stderr(target, verbose)
    waits = _WaitLine()
    steps = []
    try:
        # A recorded run reports only what its replay can: the sandbox outbox is not an HTTP exchange.
        sandbox = target.sandbox if target.recorder is None else None
        for step in run_doctor(
            target.settings,
            target.session,
            sandbox=sandbox,
            postman=postman,
            max_wait=max_wait,
            sleep=waits.sleep,
            waiting=waits.announce,
        ):
            steps.append(step)
            if not as_json:
                _echo_step(step, redactor)
    finally:
        target.close()
        if recorder is not None:
            recorder.close()
    report = build_report(target.settings, steps, target.label)
    report.description = described
    if as_json:
        click.echo(redactor.text(json.dumps(report.to_dict(), indent=2)))
    else:
        verdict = (
            _style("all checks passed", fg="green", bold=True)
            if report.ok
            else _style(
                f"failed at step {report.failed_step.name if report.failed_step else '?'!r}", fg="red", bold=True
            )
        )
        against = " (against the sandbox, not a real tenant)" if target.sandbox is not None else ""
        click.echo(f"Result: {verdict}{against}")
        _echo_advice(report.advice, redactor)
    sys.exit(report.exit_code)


def _doctor_smtp(
    settings: Any,
    as_json: bool,
    postman: bool,
    max_wait: float,
    record: str | None,
    replay: str | None,
    via: str,
    options: Any,
    verbose: bool = False,
) -> None:
    """``doctor --via smtp|both``: the Graph doctor's settings and discovery (or all of it), then SMTP."""
    from .doctor import build_report
    from .smtp_doctor import open_smtp_channel, run_smtp_doctor
    from .targets import open_target

    if not settings.user_gave_settings and not settings.sandbox and not (replay or settings.cassette):
        settings = settings.with_values(sandbox="smtp-ok")  # the sandbox tenant with SMTP AUTH set up
    recorder = _recorder(record, replay, settings)
    target = open_target(settings, recorder=recorder)
    redactor = target.settings.redactor()
    _verbose_to_stderr(target, verbose)
    steps = []
    try:
        channel = open_smtp_channel(target, options)
        if not as_json:
            shown = f"replaying {target.recorder.path}, network blocked" if target.mode == "replay" else target.label
            click.echo(f"o365check doctor --via {via}: {shown}; SMTP server {channel.endpoint.label}")
        sandbox = target.sandbox if target.recorder is None else None
        try:
            for step in run_smtp_doctor(
                target.settings, target.session, channel, via=via, sandbox=sandbox, postman=postman, max_wait=max_wait
            ):
                steps.append(step)
                if not as_json:
                    _echo_step(step, redactor)
        finally:
            channel.close(target)
    finally:
        target.close()
        if recorder is not None:
            recorder.close()
    report = build_report(target.settings, steps, target.label)
    if as_json:
        click.echo(redactor.text(json.dumps(report.to_dict(), indent=2)))
    else:
        verdict = (
            _style("all checks passed", fg="green", bold=True)
            if report.ok
            else _style(f"failed at step {report.failed_step.name!r}", fg="red", bold=True)
            if report.failed_step
            else _style("some steps were skipped", fg="yellow", bold=True)
        )
        click.echo(f"Result: {verdict}")
    sys.exit(report.exit_code if report.ok or report.failed_step else 1)


def _echo_advice(advice: list[Any], redactor: Any) -> None:
    """Advice goes last, after the result, and stays short: it must never bury a diagnosis."""
    if not advice:
        return
    click.echo("\n" + _style("Advice", fg="cyan", bold=True))
    for item in advice:
        text = f"- {item.title}. {item.explanation}"
        text += "".join(f"\n  {fix}" for fix in item.fixes) + f"\n  More: {item.reference}"
        click.echo(redactor.text(text))


def _recorder(record: str | None, replay: str | None, settings: Any) -> Any:
    """A cassette recorder/replayer for --record/--replay (or O365CHECK_CASSETTE), or None."""
    from .transport import choose_cassette

    return choose_cassette(record, replay, settings)


# ---------------------------------------------------------------------------- token / send / consent-url
@main.group(invoke_without_command=True)
@settings_options(fields=("tenant_id", "client_id", "client_secret", "certificate_path", "cloud"))
@click.option(
    "--postman", is_flag=True, help="Send the token request exactly as the guide's Postman test does (no MSAL)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--verbose", is_flag=True, help="Show every request and response (secrets masked) on stderr.")
@click.pass_context
def token(ctx: click.Context, settings: Any, postman: bool, as_json: bool, verbose: bool) -> None:
    """Get an app-only token and check its claims (never the token itself); `token decode` reads a token you have.

    \b
    Examples:
        o365check token --sandbox
        o365check token decode < token.txt
    """
    if ctx.invoked_subcommand:
        return
    from .auth import acquire_app_token, request_token_like_postman
    from .claims import check_claims, read_unverified_claims
    from .targets import open_target

    target = open_target(settings)
    click.get_current_context().meta["o365check.settings"] = target.settings
    described = target_description(target, settings)
    if not as_json:
        click.echo(f"o365check token: {described}")
    _echo_warnings(_validate_token_settings(target.settings), quiet=as_json)
    _verbose_to_stderr(target, verbose)
    with target.session:
        got = (request_token_like_postman if postman else acquire_app_token)(target.settings, target.session)
    claims = read_unverified_claims(got.access_token.reveal())
    checks = check_claims(claims, target.settings)
    redactor = target.settings.redactor()
    if as_json:
        shown = {
            k: claims[k] for k in ("aud", "iss", "tid", "appid", "roles", "idtyp", "exp", "iat", "ver") if k in claims
        }
        document = {
            "target": described,
            "sources": target.settings.provenance(),
            "expires_in": got.expires_in,
            "method": got.method,
            "claims": shown,
            "checks": [c.__dict__ for c in checks],
        }
        click.echo(redactor.text(json.dumps(document, indent=2)))
    else:
        click.echo(
            f"Token received through {got.method}; expires in {got.expires_in} s. The token itself is not shown."
        )
        _echo_checks(checks, target.settings, redactor)
    sys.exit(0 if all(c.passed for c in checks) else 1)


def _validate_token_settings(settings: Any) -> list[Any]:
    """What a token request needs (not the sender or recipient): raise on errors, return the warnings."""
    from .errors import SettingsError

    found = [p for p in settings.problems() if not p.code.startswith(("sender", "recipient"))]
    if any(p.severity == "error" for p in found):
        raise SettingsError(found)
    return found


def _echo_warnings(warnings: list[Any], *, quiet: bool = False) -> None:
    """Settings warnings (a GUID-shaped secret...) before the request they may explain: [WARN], not silence."""
    for warning in [] if quiet else warnings:
        mark = _style("[WARN]", fg="yellow", bold=True)
        click.echo(f"{mark} {warning.field} {warning.message}" + (f": {warning.value}" if warning.value else ""))
        click.echo(f"       {warning.fix}")


def _echo_checks(checks: list[Any], settings: Any, redactor: Any, *, decoding: bool = False) -> None:
    """Each claim with its verdict; a failed one with its diagnosis (why, and what to do).

    ``decoding``: the user is already in `token decode`, so the fix pointing there is left out.
    """
    from dataclasses import replace

    from .diagnosis import DiagnosisContext, diagnose, format_diagnosis

    context = DiagnosisContext(settings.tenant_id, settings.client_id, settings.sender, settings.cloud)
    for check in checks:
        status = "info" if check.severity == "info" else ("passed" if check.passed else "failed")
        mark, colour = MARKS[status]
        line = f"{_style(f'[{mark}]', fg=colour)} {check.claim:<6} {check.actual}"
        if status == "info" or not check.passed:
            line += f" ({'expected ' if status == 'failed' else ''}{check.expected})"
        click.echo(redactor.text(line))
        if status == "failed" and check.code:
            diagnosis = diagnose(check.code, context)
            if decoding:
                diagnosis = replace(diagnosis, fixes=tuple(f for f in diagnosis.fixes if "token decode" not in f))
            why = _style("Why: ", fg="red", bold=True) + format_diagnosis(diagnosis)
            click.echo(redactor.text(_indent(why, 7)))


@token.command("decode")
@click.argument("token_text", metavar="[TOKEN]", required=False)
@click.option("--file", "token_file", type=click.Path(dir_okay=False), help="Read the token from this file.")
@settings_options(fields=("tenant_id", "client_id", "cloud"))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def token_decode(token_text: str | None, token_file: str | None, settings: Any, as_json: bool) -> None:
    """Show every claim of an access token with its meaning and a verdict (like jwt.ms, offline).

    The token comes from the argument, --file, or stdin (`-` or nothing). Pasted forms are accepted:
    the bare token, 'Bearer ...', an Authorization header line, or a whole token response JSON.
    It is never verified (Graph tokens cannot be) and never printed, nor its signature.
    Compared with the tenant and client ID when given (options, --env-file, -e, AZURE_* variables).
    Exit codes: 0 it can call sendMail, 1 it cannot, 2 it is not a token.

    \b
    Examples:
        pbpaste | o365check token decode
        o365check token decode --file token.txt --env-file .env
    """
    import time

    from .redact import Redactor
    from .token_decode import (
        CLAIM_MEANINGS,
        HEADER_MEANINGS,
        decode_token,
        describe_value,
        extract_token,
        sendmail_verdict,
        verdicts,
    )

    if token_file and token_text:
        raise click.UsageError("give the token as an argument or with --file, not both")
    if token_file:
        try:
            raw = open(token_file, encoding="utf-8-sig", errors="replace").read()
        except OSError as exc:
            raise click.BadParameter(f"{token_file} cannot be read ({exc.strerror})", param_hint="--file") from None
        origin = token_file
    elif token_text and token_text != "-":
        raw, origin = token_text, "the argument"
    else:
        stdin = sys.stdin
        if stdin.isatty():
            click.echo("Paste the token, then press Enter and Ctrl+D:", err=True)
        raw, origin = stdin.read(), "stdin"
    jwt = extract_token(raw)
    click.get_current_context().meta["o365check.redactor"].add(jwt)
    decoded = decode_token(jwt)
    now = time.time()
    if settings.sandbox:
        from .targets import open_target

        target = open_target(settings)
        target.close()
        settings = target.settings
    checks = verdicts(decoded.claims, settings, now=now)
    from .clouds import cloud_named

    can, sentences = sendmail_verdict(
        decoded.claims, now=now, cloud_audience=cloud_named(settings.cloud).graph_audience
    )
    failed = [c for c in checks if not c.passed]
    if as_json:
        document = {
            "source": origin,
            "header": decoded.header,
            "claims": decoded.claims,
            "meanings": {k: CLAIM_MEANINGS.get(k, "") for k in decoded.claims},
            "checks": [c.__dict__ for c in checks],
            "can_send_mail": can,
            "send_mail": sentences,
            "compared_with": {
                k: v for k, v in settings.provenance().items() if k in ("tenant_id", "client_id", "cloud")
            },
        }
        click.echo(json.dumps(document, indent=2, default=str))
        sys.exit(0 if can and not failed else 1)
    signature = "with a signature" if decoded.signature_length else "without a signature"
    click.echo(
        f"o365check token decode: token from {origin} ({len(jwt)} characters, {signature}); not verified "
        "(Graph tokens cannot be verified by clients) and not shown."
    )
    click.echo("\nHeader")
    for key, value in decoded.header.items():
        shown = "(present)" if key == "nonce" else value
        click.echo(f"  {key:<8} {shown}  - {HEADER_MEANINGS.get(key, '')}".rstrip(" -"))
    click.echo("\nClaims")
    width = max((len(k) for k in decoded.claims), default=4)
    for key, value in decoded.claims.items():
        meaning = CLAIM_MEANINGS.get(key, "(not a documented access-token claim)")
        click.echo(f"  {key:<{width}}  {describe_value(key, value, now)}")
        click.echo(f"  {'':<{width}}  {_style(meaning, dim=True)}")
    compared = ", ".join(f"{k} from {v}" for k, v in settings.provenance().items() if k in ("tenant_id", "client_id"))
    click.echo(
        "\nVerdict" + (f" (compared with {compared})" if compared else " (no tenant or client ID given to compare)")
    )
    _echo_checks(checks, settings, Redactor([jwt]), decoding=True)
    click.echo("\nFor sendMail")
    for sentence in sentences:
        click.echo(f"  - {sentence}")
    sys.exit(0 if can and not failed else 1)


@main.command()
@settings_options
@click.option(
    "--max-wait",
    type=click.FloatRange(0, 600),
    default=10.0,
    show_default=True,
    help="Longest total wait (seconds) for Retry-After.",
)
@click.option("--verbose", is_flag=True, help="Show every request and response (secrets masked) on stderr.")
def send(settings: Any, max_wait: float, verbose: bool) -> None:
    """Send the test message as the sender (to itself unless --to is given).

    \b
    Example:
        o365check send --sandbox --to someone@contoso.example
    """
    from .auth import acquire_app_token
    from .diagnosis import DiagnosisContext, diagnose
    from .graph import send_mail
    from .mail import build_test_message
    from .targets import open_target

    target = open_target(settings)
    click.get_current_context().meta["o365check.settings"] = target.settings
    click.echo(f"o365check send: {target_description(target, settings)}")
    _echo_warnings(target.settings.validate())
    _verbose_to_stderr(target, verbose)
    waits = _WaitLine()
    with target.session:
        got = acquire_app_token(target.settings, target.session)
        to = target.settings.effective_recipient

        def waiting(seconds: float) -> None:
            waits.announce(seconds, "Graph answered 429/503 and asked to wait (Retry-After)")
            waits.sleep(seconds)

        result = send_mail(
            target.session,
            target.settings,
            got.access_token,
            build_test_message(target.settings.sender, to),
            max_wait=max_wait,
            sleep=waiting,
        )
    after = f" after waiting {' + '.join(f'{w:g} s' for w in result.waits)} (Retry-After)" if result.waits else ""
    click.echo(
        f"Graph accepted the test message from {target.settings.sender} to {to}{after} (HTTP {result.status}; request-id {result.request_id})."
    )
    if target.sandbox is not None:
        click.echo(f"The sandbox outbox now holds {len(target.sandbox.outbox)} message(s).")
    context = DiagnosisContext(
        target.settings.tenant_id, target.settings.client_id, target.settings.sender, target.settings.cloud
    )
    _echo_advice([diagnose("mail-send-tenant-wide", context)], target.settings.redactor())


def _values_for(settings: Any) -> tuple[Any, str]:
    """Settings with the sandbox scenario's values when the sandbox is the target, and what to say first."""
    from .targets import open_target

    target = open_target(settings)
    target.close()
    return target.settings, target_description(target, settings)


@main.command("consent-url")
@settings_options(fields=("tenant_id", "client_id", "cloud"))
@click.option("--redirect-uri", help="A redirect URI registered on the app (optional).")
def consent_url(settings: Any, redirect_uri: str | None) -> None:
    """Print the admin-consent URL for the app (open it as a Privileged Role Administrator).

    The URL alone goes to stdout (for scripts); what it was built from goes to stderr.

    \b
    Example:
        o365check consent-url --tenant-id contoso.onmicrosoft.com --client-id 11111111-2222-3333-4444-555555555555
    """
    from .consent import admin_consent_url

    settings, described = _values_for(settings)
    click.echo(f"o365check consent-url: {described}", err=True)
    problems = [
        p for p in settings.problems() if p.severity == "error" and p.code.startswith(("tenant", "client-id", "cloud"))
    ]
    if problems:
        from .errors import SettingsError

        raise SettingsError(problems)
    click.echo(
        admin_consent_url(settings.tenant_id, settings.client_id, cloud=settings.cloud, redirect_uri=redirect_uri)
    )


@main.command("scope-mailboxes")
@settings_options(fields=("client_id", "sender"))
@click.option("--group", default="", help="Mail-enabled security group holding the mailboxes the app may use.")
@click.option("--service-principal-id", default="", help="Object ID of the Enterprise application (service principal).")
def scope_mailboxes(settings: Any, group: str, service_principal_id: str) -> None:
    """Print the PowerShell commands that limit Mail.Send to chosen mailboxes.

    Mail.Send as an application permission lets the app send as any mailbox in the tenant.

    \b
    Example:
        o365check scope-mailboxes --client-id 11111111-2222-3333-4444-555555555555 --sender noreply@contoso.com
    """
    from .consent import mailbox_scoping

    settings, described = _values_for(settings)
    problems = [p for p in settings.problems() if p.severity == "error" and p.code.startswith(("client-id", "sender"))]
    if problems:
        from .errors import SettingsError

        raise SettingsError(problems)
    click.echo(f"# o365check scope-mailboxes: {described}")
    scoping = mailbox_scoping(
        settings.client_id, settings.sender, group=group, service_principal_id=service_principal_id
    )
    click.echo(scoping.explanation)
    for title, commands in (
        ("Application access policy (Exchange Online PowerShell)", scoping.access_policy),
        ("RBAC for Applications (Exchange Online PowerShell)", scoping.rbac),
        ("Verify", scoping.verify),
    ):
        click.echo(f"\n# {title}")
        for command in commands:
            click.echo(command)


# ---------------------------------------------------------------------------- cassette
@main.group()
def cassette() -> None:
    """Recorded cassettes (VCR/vcrpy YAML): check them before sharing or committing."""


@cassette.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--canary",
    "canaries",
    multiple=True,
    metavar="VALUE",
    help="A value that must not appear (a test secret or token); repeatable.",
)
def cassette_check(files: tuple[str, ...], canaries: tuple[str, ...]) -> None:
    """Find anything secret-looking: a JWT, a Bearer/Basic value or a client_secret/client_assertion/token
    value other than the placeholder, a cookie, a --canary value. Prints FILE:LINE and what (never the value).

    Exit code 0 when every file is clean, 1 when something was found, 2 when a file cannot be read.

    \b
    Example:
        o365check cassette check collections/cassettes/*.yaml --canary "$AZURE_CLIENT_SECRET"
    """
    from .cassette_check import find_secrets
    from .errors import CassetteError

    found, unreadable = 0, 0
    for path in files:
        try:
            findings = find_secrets(path, canaries)
        except CassetteError as exc:
            click.echo(f"Error: {exc}", err=True)
            unreadable += 1
            continue
        for finding in findings:
            click.echo(str(finding))
        found += len(findings)
    if unreadable:
        sys.exit(2)
    if found:
        click.echo(f"{found} secret-looking value(s) in {len(files)} file(s).", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} file(s) clean.")


# ---------------------------------------------------------------------------- sandbox
@main.group()
def sandbox() -> None:
    """The built-in sandbox tenant: list scenarios, serve it on 127.0.0.1."""


@sandbox.command("scenarios")
def sandbox_scenarios() -> None:
    """List the sandbox scenarios, one line each.

    \b
    Example:
        o365check sandbox scenarios
        o365check doctor --sandbox mailbox-unlicensed
    """
    from .sandbox import SCENARIOS

    width = max(map(len, SCENARIOS))
    for name, scenario in SCENARIOS.items():
        click.echo(f"{name:<{width}}  {scenario.summary}")


@sandbox.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--scenario", default="ok", show_default=True, help="Scenario name (see `o365check sandbox scenarios`).")
@click.option("--tls", is_flag=True, help="Serve HTTPS with a generated local CA (its path is printed).")
@click.option(
    "--environment-out", type=click.Path(dir_okay=False), help="Write a Postman environment for Newman/Postman."
)
@click.option(
    "--certificate",
    "certificates",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Register this PEM certificate on the sandbox app (certificate credentials); repeatable.",
)
@click.option(
    "--new-certificate",
    type=click.Path(dir_okay=False),
    help="Generate a key pair, register its certificate, and write key + certificate (PEM) to this path for the client.",
)
@click.option(
    "--shell-env",
    is_flag=True,
    help="Start in the background and print only `export` lines for eval, "
    'e.g. eval "$(o365check sandbox serve --tls --shell-env)"; stop it with kill $O365CHECK_SANDBOX_PID.',
)
def sandbox_serve(
    port: int,
    scenario: str,
    tls: bool,
    environment_out: str | None,
    certificates: tuple[str, ...],
    new_certificate: str | None,
    shell_env: bool,
) -> None:
    """Serve the identity platform and Graph paths of the sandbox on one loopback port.

    Prints the base URL, the CA (with --tls) and the environment variables SDK clients read;
    the control API (/_sandbox: outbox, scenario, reset, faults) lets one server serve a whole
    test session. See docs/sdk-recipes.md.

    \b
    Example:
        o365check sandbox serve --port 8400 --environment-out sandbox.postman_environment.json
        newman run collections/office365-sendmail.postman_collection.json -e sandbox.postman_environment.json
        eval "$(o365check sandbox serve --tls --new-certificate client.pem --shell-env)"
        python my_app.py; kill $O365CHECK_SANDBOX_PID
    """
    from .sandbox import SCENARIOS, Sandbox
    from .sandbox.client_env import client_environment, shell_exports

    if scenario not in SCENARIOS:
        raise click.BadParameter(
            f"{scenario!r} is not a scenario; use one of: {', '.join(SCENARIOS)}", param_hint="--scenario"
        )
    box = Sandbox(scenario)
    for path in certificates:
        _register_certificate(box, path)
    if new_certificate:
        from .sandbox.certificates import new_client_certificate, write_client_certificate

        key_pem, certificate_pem = new_client_certificate()
        try:
            write_client_certificate(new_certificate, key_pem, certificate_pem)
        except OSError as exc:
            raise click.BadParameter(
                f"cannot write {new_certificate}: {exc.strerror}", param_hint="--new-certificate"
            ) from None
        box.add_certificate(certificate_pem)
        new_certificate = os.path.abspath(new_certificate)
    smtp_holder: list[Any] = []

    def start() -> tuple[Any, list[tuple[str, str]]]:
        try:
            server = box.serve(port=port, tls=tls)
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; pick another --port"
            ) from None
        try:
            smtp = box.smtp_server()  # SMTP AUTH XOAUTH2 submission (doctor --via smtp), on its own loopback port
        except OSError as exc:
            server.stop()
            raise click.ClickException(f"cannot start the sandbox SMTP server on 127.0.0.1: {exc.strerror}") from None
        smtp_holder.append(smtp)
        if environment_out:  # it holds the scenario's secret: owner-only, written atomically (issue 9)
            import tempfile
            from pathlib import Path

            from .user_files import write_private_text

            smtp_address = {"smtp_host": smtp.host, "smtp_port": str(smtp.port)}
            with tempfile.TemporaryDirectory() as tmp:
                written = box.write_postman_environment(Path(tmp) / "sandbox.json", server.base_url, smtp_address)
                text = written.read_text("utf-8")
            try:
                write_private_text(environment_out, text, "--environment-out")
            except Exception:
                box.stop_smtp()
                server.stop()
                raise
        variables = client_environment(
            base_url=server.base_url,
            scenario=scenario,
            credentials=box.credentials,
            ca_path=server.ca_path,
            ca_bundle_path=server.ca_bundle_path,
            certificate_path=new_certificate,
        )
        variables += [("O365CHECK_SANDBOX_SMTP_HOST", smtp.host), ("O365CHECK_SANDBOX_SMTP_PORT", str(smtp.port))]
        return server, variables

    if shell_env:
        _serve_in_background(start, shell_exports, box)
        return
    server, variables = start()
    smtp = smtp_holder[0]
    click.echo(f"Sandbox scenario {scenario!r} serving at {server.base_url}", nl=True)
    click.echo(f"SMTP (STARTTLS, AUTH XOAUTH2) at {smtp.address}; its CA certificate: {smtp.ca_path}")
    if tls:
        click.echo(f"CA certificate: {server.ca_path}")
    if environment_out:
        click.echo(f"Postman environment written to {environment_out}")
    if new_certificate:
        click.echo(f"Client key and certificate written to {new_certificate}")
    click.echo("Outbox: " + server.base_url + "/_sandbox/outbox   (control API: GET " + server.base_url + "/_sandbox)")
    click.echo("Environment for clients (docs/sdk-recipes.md):")
    click.echo(shell_exports(variables), nl=False)
    click.echo("(Ctrl+C to stop)")
    sys.stdout.flush()
    _wait_for_stop(server, box)


def _register_certificate(box: Any, path: str) -> None:
    try:
        from pathlib import Path

        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--certificate") from None
    try:
        box.add_certificate(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{path} holds no usable PEM certificate ({exc}); export the certificate as PEM (Base64)",
            param_hint="--certificate",
        ) from None


def _wait_for_stop(server: Any, box: Any) -> None:
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        box.stop_smtp()
        server.stop()


def _serve_in_background(start: Any, shell_exports: Any, box: Any) -> None:
    """ssh-agent's shape: a detached child serves; the parent prints its exports once it listens."""
    if not hasattr(os, "fork"):
        raise click.UsageError("--shell-env needs a POSIX system; run `o365check sandbox serve` in its own terminal")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the server process
        os.close(read_end)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for descriptor in (0, 1, 2):
            os.dup2(devnull, descriptor)
        with os.fdopen(write_end, "w") as report:
            try:
                server, variables = start()
            except click.ClickException as exc:
                report.write("error: " + exc.format_message())
                os._exit(3)
            report.write(shell_exports(variables))
        _wait_for_stop(server, box)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as report:
        text = report.read()
    if not text.startswith("export "):
        os.waitpid(pid, 0)
        raise click.ClickException(text.removeprefix("error: ") or "the sandbox server did not start")
    click.echo(text + f"export O365CHECK_SANDBOX_PID={pid}\n# stop it with: kill $O365CHECK_SANDBOX_PID", nl=True)


@sandbox.command("outbox")
@click.argument("url", metavar="BASE_URL")
@click.option("--json", "as_json", is_flag=True, help="Print the messages as JSON.")
def sandbox_outbox(url: str, as_json: bool) -> None:
    """List the messages a running `o365check sandbox serve` accepted.

    \b
    Example:
        o365check sandbox outbox http://127.0.0.1:8400
    """
    import requests

    from .http import build_session, describe_connection_error

    outbox_url = url.rstrip("/") + "/_sandbox/outbox"
    try:
        with build_session(timeout=(5, 10)) as session:
            response = session.get(outbox_url)
            messages = response.json() if response.status_code == 200 else None
    except requests.RequestException as exc:
        raise describe_connection_error(exc, outbox_url) from None
    except ValueError:
        messages = None
    if not isinstance(messages, list):
        raise click.UsageError(f"{url} does not look like `o365check sandbox serve` (no outbox at {outbox_url})")
    if as_json:
        click.echo(json.dumps(messages, indent=2))
        return
    click.echo(f"{len(messages)} message(s) accepted")
    for number, message in enumerate(messages, 1):
        to = ", ".join(message.get("to") or [])
        click.echo(
            f"{number}. {message.get('received_at', '')}  from {message.get('sender', '')} to {to}: {message.get('subject', '')}"
        )


# ---------------------------------------------------------------------------- run (Postman collections)
@main.command("run")
@click.argument("collection", type=click.Path(dir_okay=False))
@click.option("-e", "--environment", type=click.Path(dir_okay=False), help="Postman environment file.")
@click.option("-g", "--globals", "globals_", type=click.Path(dir_okay=False), help="Postman globals file.")
@click.option("-d", "--iteration-data", type=click.Path(dir_okay=False), help="Iteration data (CSV or JSON).")
@click.option("-n", "--iteration-count", "iterations", type=int, help="Number of iterations.")
@click.option("--folder", "folders", multiple=True, help="Run only this folder (or request); repeatable.")
@click.option("--bail", is_flag=True, help="Stop at the first failed test or request.")
@click.option("--delay-request", type=click.IntRange(0), default=0, help="Pause between requests (ms).")
@click.option("--timeout-request", type=click.IntRange(1), help="Timeout for each request (ms).")
@click.option("--timeout", type=click.IntRange(1), help="Timeout for the whole run (ms).")
@click.option("--timeout-script", type=click.IntRange(1), help="Timeout for each script (ms).")
@click.option("-k", "--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option("--ca-cert", type=click.Path(dir_okay=False, exists=True), help="CA bundle to trust (PEM).")
@click.option(
    "--sandbox",
    is_flag=False,
    flag_value="ok",
    default=None,
    metavar="[SCENARIO]",
    help="Route the Microsoft hosts to the built-in sandbox (scenario 'ok' if none given).",
)
@click.option(
    "--export-environment", type=click.Path(dir_okay=False), help="Write the final environment here (secrets masked)."
)
@click.option(
    "--export-globals", type=click.Path(dir_okay=False), help="Write the final globals here (secrets masked)."
)
@click.option("--export-secrets", is_flag=True, help="With --export-environment/--export-globals: secrets unmasked.")
@click.option("-r", "--reporters", default="cli", show_default=True, help="Comma-separated: cli,json,junit.")
@click.option("--reporter-json-export", type=click.Path(dir_okay=False), help="Path of the JSON report.")
@click.option("--reporter-junit-export", type=click.Path(dir_okay=False), help="Path of the JUnit report.")
@click.option(
    "--env-var", "env_vars", multiple=True, metavar="KEY=VALUE", help="Set an environment variable; repeatable."
)
@click.option(
    "--global-var", "global_vars", multiple=True, metavar="KEY=VALUE", help="Set a global variable; repeatable."
)
@click.option(
    "--allow-secret-to", multiple=True, metavar="HOST", help="Allow secrets to be sent to this host; repeatable."
)
@click.option(
    "--working-dir",
    type=click.Path(file_okay=False, exists=True),
    help="Read body files (form-data, binary) only under this folder; default: the collection's folder.",
)
@click.option("--insecure-file-read", is_flag=True, help="Allow body files outside the working directory.")
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="NAME",
    help="Treat this variable as a secret (masked, sent only to identity hosts) whatever its name; repeatable.",
)
@click.option("--record", type=click.Path(dir_okay=False), help="Record every exchange to this cassette.")
@click.option("--replay", type=click.Path(dir_okay=False), help="Replay this cassette with the network blocked.")
@click.option("--no-color", is_flag=True, help="No colours in the console report.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    help="A .env file: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, O365CHECK_SENDER become "
    "tenant_id, client_id, client_secret, sender (--env-var wins).",
)
@click.option("--verbose", is_flag=True, help="Show every request and response (secrets masked) on stderr.")
def run(collection: str, **options: Any) -> None:
    """Run a Postman collection (v2.0/v2.1) like Newman, fetching OAuth 2.0 tokens itself.

    Secrets are masked in every report and export, and are sent only to Microsoft identity hosts.
    Exit codes: 0 passed, 1 a test failed or a request errored, 2 unusable input, 3 could not connect.

    \b
    Examples:
        o365check run collections/office365-sendmail.postman_collection.json --sandbox
        o365check run collections/office365-sendmail.postman_collection.json --sandbox secret-id-not-value
        o365check run my.postman_collection.json -e my.postman_environment.json -r cli,json,junit
    """
    from .postman.command import RunOptions, run_collection_cli

    options["reporters"] = [r.strip() for r in options["reporters"].split(",") if r.strip()]
    options["no_color"] = options["no_color"] or NO_COLOR
    for key in ("folders", "env_vars", "global_vars", "allow_secret_to", "secrets"):
        options[key] = list(options[key])
    options["globals"] = options.pop("globals_")
    options["debug"] = bool(click.get_current_context().find_root().meta.get("o365check.debug"))
    sys.exit(run_collection_cli(RunOptions(collection, **options)))


# ---------------------------------------------------------------------------- report / web (notebooks, issue 13)
@main.command("report")
@settings_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="o365check-report.html",
    show_default=True,
    help="Where to write the HTML report (one self-contained file).",
)
@click.option(
    "--notebook",
    type=click.Path(dir_okay=False, writable=True),
    help="Run notebooks/10-support-check.ipynb with papermill instead and keep the executed notebook here "
    "(outputs masked); needs the notebooks extra.",
)
@click.option(
    "--postman/--no-postman",
    default=True,
    show_default=True,
    help="Also send the token request exactly as the guide's Postman test does.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(0, 600),
    default=0.0,
    show_default=True,
    help="Longest total wait (seconds) for Retry-After; 0 reports the wait instead.",
)
def report(settings: Any, output: str, notebook: str | None, postman: bool, max_wait: float) -> None:
    """Run the whole check once and write a support report as a single HTML page.

    The page names the tenant, the app and the time, the o365check version, and whether the
    sandbox, a live tenant or a cassette answered; it lists every step with its result and, for
    each failed step, the diagnosis with every ID support asks for (request-id, client-request-id,
    trace and correlation IDs, timestamps) and links to Microsoft's documentation. It holds no
    code and no secret: the client secret and the token are masked. Send it to whoever helps you.

    Settings are read like every other command's (options, AZURE_* variables, --env-file, -e).
    Pass the client secret through AZURE_CLIENT_SECRET rather than an option.

    Exit codes: 0 every step passed, 1 a step failed, 2 unusable input, 3 a service could not be reached.

    \b
    Examples:
        o365check report --sandbox no-admin-consent --output r.html
        o365check report --env-file .env -o support.html
        o365check report --sandbox --notebook support.ipynb -o support.html
    """
    from pathlib import Path

    if notebook:
        sys.exit(_report_with_papermill(settings, Path(output), Path(notebook), postman))
    from .support_report import run_support_check

    check = run_support_check(settings, postman=postman, max_wait=max_wait)
    path = Path(output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(check.document(), encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output!r}: {exc.strerror}", param_hint="--output") from None
    status, text = check.verdict()
    failed = check.report.failed_step  # its own words on the console too, not only in the page
    why = ""
    if failed is not None:
        from .diagnosis import format_diagnosis

        said = [failed.summary, format_diagnosis(failed.diagnosis) if failed.diagnosis else ""]
        why = "".join(f"\n{check.redactor.text(part)}" for part in said if part)
    click.echo(f"{text}{why}\nReport written to {path}")
    sys.exit(check.exit_code)


def _report_with_papermill(settings: Any, output: Any, notebook: Any, postman: bool) -> int:
    """The support notebook through papermill: secrets reach the kernel through its environment only."""
    from pathlib import Path

    from .errors import UsageError
    from .settings import ENV_NAMES

    try:
        from .notebook_report import reported_exit_code, run_support_notebook
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise UsageError(f"--notebook needs papermill ({exc}). Fix: pip install 'o365check[notebooks]'") from None
    source = Path(__file__).resolve().parents[1] / "notebooks" / "10-support-check.ipynb"
    if not source.is_file():
        raise UsageError(
            f"--notebook runs {source}, which is not here (it ships with the source checkout). Fix: run from a checkout, or leave out --notebook"
        )
    environment = {
        ENV_NAMES[name]: value.reveal() if hasattr(value, "reveal") else str(value)
        for name in ("tenant_id", "client_id", "client_secret", "certificate_path", "certificate_password", "recipient")
        if name in ENV_NAMES and (value := getattr(settings, name, None))
    }
    parameters = {
        "scenario": settings.sandbox or "",
        "sender": settings.sender,
        "cloud": settings.cloud if settings.cloud != "global" else "",
        "postman": postman,
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)  # the kernel inherits this process's environment
    try:
        executed, html = run_support_notebook(source, notebook, parameters=parameters, html=output, settings=settings)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    code = reported_exit_code(executed)
    click.echo(
        f"The check {'passed' if code == 0 else f'failed (exit code {code})'}.\nReport written to {html}; executed notebook: {executed}"
    )
    return code


@main.command("web")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8866,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
def web(port: int) -> None:
    """Serve the walkthrough as a standalone page (Voila) on 127.0.0.1: no code, no Jupyter menus.

    Fill in the credentials (or use the sandbox), get a token, send the test e-mail and run the whole
    check from a browser. Secrets stay in the page's kernel: nothing is written to disk. The URL is
    printed when the page is ready; Ctrl+C stops it.

    \b
    Example:
        o365check web --port 8866
    """
    from .web import serve

    sys.exit(serve(port))


if __name__ == "__main__":  # pragma: no cover
    main()
