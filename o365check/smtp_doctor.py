"""``doctor --via smtp``: the whole SMTP AUTH XOAUTH2 check, step by step (reference §8).

Settings and tenant discovery are the Graph doctor's own steps (``run_doctor`` is stopped right
after discovery); then: a token for Exchange Online, its claims judged for SMTP, and the SMTP
dialogue, a step per command. ``--via both`` runs the whole Graph check first. As for Graph, a
token whose claims fail is still used, so the server's own reply (``535 5.7.3``) is shown; a
failed step skips the steps that need it; nothing is ever sent twice.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from .auth import AppToken, acquire_app_token
from .claims import GRAPH_APP_ID, check_claims, read_unverified_claims
from .clouds import cloud_named
from .diagnosis import DiagnosisContext, diagnose
from .doctor import StepResult, run_doctor
from .errors import AmbiguousSendError, O365CheckError, ServiceUnreachableError
from .settings import Settings
from .smtp import (
    EXCHANGE_APP_ID,
    SMTP_SEND_AS_APP,
    SmtpConversation,
    SmtpEndpoint,
    SmtpOptions,
    SmtpReplyError,
    build_smtp_test_message,
    exchange_cloud,
    smtp_endpoint,
)
from .smtp_diagnosis import SmtpContext, diagnose_smtp

if TYPE_CHECKING:
    from .smtp_transcript import SmtpTranscript

__all__ = ["SmtpChannel", "open_smtp_channel", "run_smtp_doctor", "smtp_claim_checks"]

VIAS = ("graph", "smtp", "both")


@dataclass
class SmtpChannel:
    """How this run reaches SMTP: the client's options, the endpoint, and the transcript (record/replay)."""

    options: SmtpOptions
    endpoint: SmtpEndpoint
    transcript: SmtpTranscript | None = None
    client_class: type[smtplib.SMTP] = smtplib.SMTP  # the SMTP client when no transcript records or replays

    def smtp_client_class(self) -> type[smtplib.SMTP]:
        return self.transcript.client_class() if self.transcript is not None else self.client_class

    def close(self, target: Any, extra: dict[str, Any] | None = None) -> None:
        """Save a recording (describing what it was recorded against, plus ``extra``) and stop a sandbox SMTP server."""
        if self.transcript is not None and not self.transcript.replaying:
            against = (
                f"the o365check sandbox, scenario {target.sandbox.scenario.name!r} (not a real tenant)"
                if target.sandbox is not None
                else f"a live tenant ({target.settings.cloud} cloud)"
            )
            self.transcript.describe(
                {
                    "target": target.label,
                    "recorded_against": against,
                    "server": self.endpoint.address,
                    "client": self.options.as_typed(),
                    **(extra or {}),
                }
            )
            self.transcript.save()
        if target.sandbox is not None:
            target.sandbox.stop_smtp()


def open_smtp_channel(target: Any, options: SmtpOptions | None = None) -> SmtpChannel:
    """Ask the target where SMTP is: the cloud's host live, the sandbox's loopback server, or a transcript."""
    options = options or SmtpOptions()
    transcript = None
    recorder = getattr(target, "recorder", None)
    if recorder is not None:
        from .smtp_transcript import SmtpTranscript, transcript_path  # vcrpy's world: only when recording

        transcript = SmtpTranscript(
            transcript_path(recorder.path), replaying=recorder.replaying, redactor=target.settings.redactor()
        )
        if transcript.replaying:
            options = options.merged_over(dict(transcript.metadata.get("client") or {}))
    if target.sandbox is not None:
        options = options.merged_over(target.sandbox.smtp_client)
    replaying = transcript is not None and transcript.replaying
    endpoint = smtp_endpoint(target.settings.cloud, None if replaying else target.sandbox, options)
    return SmtpChannel(options, endpoint, transcript)


def _context(settings: Settings) -> DiagnosisContext:
    return DiagnosisContext(
        tenant=settings.tenant_id, client_id=settings.client_id, sender=settings.sender, cloud=settings.cloud
    )


def _skipped(name: str, because: str) -> StepResult:
    return StepResult(name, "skipped", f"skipped: step {because!r} did not pass")


def _failed(name: str, error: Exception, settings: Settings, smtp: SmtpContext) -> StepResult:
    if isinstance(error, SmtpReplyError):
        return StepResult(
            name,
            "failed",
            str(error),
            error.error_code,
            diagnose_smtp(error, smtp),
            (("Reply", f"{error.code} {error.text}"),),
            exit_code=1,
        )
    if isinstance(error, AmbiguousSendError):
        return StepResult(
            name, "failed", str(error), "send-ambiguous", diagnose(error, _context(settings)), exit_code=3
        )
    exit_code = getattr(error, "exit_code", 1)
    code = getattr(error, "error_code", "") if not isinstance(error, ServiceUnreachableError) else ""
    return StepResult(
        name,
        "failed",
        str(error),
        code,
        diagnose(error, _context(settings)),
        exit_code=exit_code if exit_code in (2, 3) else 1,
    )


@dataclass(frozen=True)
class SmtpClaim:
    claim: str
    passed: bool
    expected: str
    actual: str
    code: str = ""


def smtp_claim_checks(claims: dict[str, Any], settings: Settings, *, now: float | None = None) -> list[SmtpClaim]:
    """The Graph checks of tid, appid, idtyp and expiry, with aud and roles judged for SMTP (§8.1)."""
    exchange = exchange_cloud(settings.cloud)
    graph = cloud_named(settings.cloud).graph_audience
    checks: list[SmtpClaim] = []
    aud = str(claims.get("aud", ""))
    if aud.rstrip("/") in (exchange.resource, EXCHANGE_APP_ID):
        checks.append(SmtpClaim("aud", True, exchange.resource, aud))
    else:
        code = "smtp-claims-graph-token" if aud.rstrip("/") in (graph, GRAPH_APP_ID) else "smtp-claims-aud-wrong"
        checks.append(SmtpClaim("aud", False, exchange.resource, aud or "(absent)", code))
    roles = claims.get("roles")
    if not roles:
        checks.append(
            SmtpClaim("roles", False, f"contains {SMTP_SEND_AS_APP}", "(no roles claim)", "smtp-claims-roles-missing")
        )
    elif SMTP_SEND_AS_APP not in roles:
        shown = ", ".join(map(str, roles))
        checks.append(SmtpClaim("roles", False, f"contains {SMTP_SEND_AS_APP}", shown, "smtp-claims-role-missing"))
    else:
        checks.append(SmtpClaim("roles", True, f"contains {SMTP_SEND_AS_APP}", ", ".join(map(str, roles))))
    for c in check_claims(claims, settings, now=now):
        if c.claim not in ("aud", "roles"):
            checks.append(SmtpClaim(c.claim, c.passed, c.expected, c.actual, c.code))
    return checks


def _claims_step(token: AppToken, settings: Settings, smtp: SmtpContext) -> tuple[StepResult, str]:
    """The claims step and the token's ``oid`` (the Enterprise application's object ID)."""
    try:
        claims = read_unverified_claims(token.access_token.reveal())
    except ValueError as exc:
        return (
            StepResult(
                "smtp-claims",
                "failed",
                str(exc),
                "claims-unreadable",
                diagnose("claims-unreadable", _context(settings)),
            ),
            "",
        )
    oid = str(claims.get("oid", ""))
    checks = smtp_claim_checks(claims, settings)
    details = tuple((c.claim, f"{c.actual} ({'ok' if c.passed else 'expected ' + c.expected})") for c in checks)
    details += (("oid (Enterprise application object ID)", oid or "(absent)"),)
    failed = [c for c in checks if not c.passed]

    def explain(code: str) -> Any:
        return diagnose_smtp(code, smtp) if code.startswith("smtp-") else diagnose(code, _context(settings))

    if not failed:
        summary = f"audience Exchange Online, {SMTP_SEND_AS_APP} role, tenant, app and expiry are as expected"
        return StepResult("smtp-claims", "passed", summary, details=details), oid
    first = failed[0]
    if first.code == "smtp-claims-graph-token":  # a Graph token has Graph's roles: one cause, one explanation
        failed = [first, *(c for c in failed[1:] if c.claim != "roles")]
    return (
        StepResult(
            "smtp-claims",
            "failed",
            f"{first.claim}: {first.actual} (expected {first.expected})",
            first.code,
            explain(first.code),
            details,
            tuple(explain(c.code) for c in failed[1:]),
        ),
        oid,
    )


def run_smtp_doctor(
    settings: Settings,
    session: requests.Session,
    channel: SmtpChannel,
    *,
    via: str = "smtp",
    sandbox: Any = None,
    postman: bool = False,
    max_wait: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[StepResult]:
    """Yield each step's result: the Graph doctor's (all of it with ``via="both"``), then SMTP's."""
    passed: set[str] = set()
    graph: Generator[StepResult, None, None] = run_doctor(  # type: ignore[assignment]
        settings, session, sandbox=sandbox, postman=postman, max_wait=max_wait, sleep=sleep
    )
    for step in graph:
        if step.status == "passed":
            passed.add(step.name)
        yield step
        if via == "smtp" and step.name == "discovery":
            graph.close()  # the Graph token, claims and sendMail are not this check's business
            break
    yield from _smtp_steps(settings, session, channel, passed, sandbox)


def _smtp_steps(
    settings: Settings, session: requests.Session, channel: SmtpChannel, passed: set[str], sandbox: Any
) -> Iterator[StepResult]:
    options = channel.options
    exchange = exchange_cloud(settings.cloud)
    scope = options.scope or exchange.scope
    user = options.user or settings.sender
    smtp = SmtpContext(settings.tenant_id, settings.client_id, settings.sender, user, "", settings.cloud)

    # token for Exchange Online
    token: AppToken | None = None
    if "discovery" not in passed:
        yield _skipped("smtp-token", "discovery")
    else:
        try:
            token = acquire_app_token(settings, session, scope=scope)
        except O365CheckError as exc:
            yield _failed("smtp-token", exc, settings, smtp)
        else:
            yield StepResult(
                "smtp-token",
                "passed",
                f"{token.token_type} token for {scope}, expires in {token.expires_in} s ({token.token_source})",
                details=(("Scope", scope), ("Token", "received (not shown)")),
            )

    # claims
    if token is None:
        yield _skipped("smtp-claims", "smtp-token")
    else:
        result, oid = _claims_step(token, settings, smtp)
        smtp = SmtpContext(
            smtp.tenant, smtp.client_id, smtp.sender, smtp.user, oid, smtp.cloud, result.status == "passed"
        )
        if result.status == "passed":
            passed.add("smtp-claims")
        yield result
    if token is None:
        for name in ("smtp-connect", "smtp-starttls", "smtp-auth", "smtp-mail-from", "smtp-send"):
            yield _skipped(name, "smtp-token")
        return

    conversation = SmtpConversation(channel.endpoint, channel.smtp_client_class())
    try:
        yield from _dialogue(conversation, token, settings, smtp, user, channel, sandbox)
    finally:
        conversation.close()


def _dialogue(
    conversation: SmtpConversation,
    token: AppToken,
    settings: Settings,
    smtp: SmtpContext,
    user: str,
    channel: SmtpChannel,
    sandbox: Any,
) -> Iterator[StepResult]:
    endpoint = channel.endpoint
    steps = ("smtp-connect", "smtp-starttls", "smtp-auth", "smtp-mail-from", "smtp-send")

    def stop_after(name: str) -> Iterator[StepResult]:
        for later in steps[steps.index(name) + 1 :]:
            yield _skipped(later, name)

    try:
        code, text = conversation.connect()
    except O365CheckError as exc:
        yield _failed("smtp-connect", exc, settings, smtp)
        yield from stop_after("smtp-connect")
        return
    yield StepResult(
        "smtp-connect",
        "passed",
        f"connected to {endpoint.address}; EHLO {code}",
        details=(("Server", endpoint.address), ("Offers", ", ".join(sorted(conversation.features)).upper())),
    )

    if not channel.options.starttls:
        yield StepResult(
            "smtp-starttls",
            "skipped",
            "skipped: STARTTLS is switched off in this client's configuration (the app's 'use TLS' setting); "
            "AUTH follows on the plain connection, as the app would send it",
        )
    else:
        try:
            code, text = conversation.starttls()
        except SmtpReplyError as exc:
            if exc.code == 0:  # not offered at all
                yield StepResult(
                    "smtp-starttls",
                    "failed",
                    exc.text,
                    "smtp-starttls-missing",
                    diagnose_smtp("smtp-starttls-missing", smtp),
                )
            else:
                yield _failed("smtp-starttls", exc, settings, smtp)
            yield from stop_after("smtp-starttls")
            return
        except O365CheckError as exc:
            yield _failed("smtp-starttls", exc, settings, smtp)
            yield from stop_after("smtp-starttls")
            return
        yield StepResult(
            "smtp-starttls",
            "passed",
            f"{conversation.tls_version or 'TLS'} negotiated; AUTH offered: {conversation.features.get('auth', '').strip() or '(none)'}",
            details=(("TLS version", conversation.tls_version), ("Certificate checked for", endpoint.host)),
        )

    try:
        code, text = conversation.auth_xoauth2(user, token.access_token.reveal())
    except O365CheckError as exc:
        yield _failed("smtp-auth", exc, settings, smtp)
        yield from stop_after("smtp-auth")
        return
    yield StepResult(
        "smtp-auth", "passed", f"{code} {text}", details=(("XOAUTH2 user", user), ("Token", "sent (not shown)"))
    )

    try:
        code, text = conversation.mail_from(settings.sender)
    except O365CheckError as exc:
        yield _failed("smtp-mail-from", exc, settings, smtp)
        yield from stop_after("smtp-mail-from")
        return
    yield StepResult("smtp-mail-from", "passed", f"{code} {text}", details=(("MAIL FROM", settings.sender),))

    to = settings.effective_recipient
    before = len(sandbox.outbox) if sandbox is not None else 0
    try:
        code, text = conversation.send_message(settings.sender, to, build_smtp_test_message(settings.sender, to))
    except O365CheckError as exc:
        yield _failed("smtp-send", exc, settings, smtp)
        return
    details = [("To", to), ("Reply", f"{code} {text}")]
    if sandbox is not None:
        landed = len(sandbox.outbox) - before
        details.append(("Sandbox outbox", f"{landed} new message(s), {len(sandbox.outbox)} in all"))
    yield StepResult(
        "smtp-send",
        "passed",
        f"accepted for delivery to {to} ({code}; accepted is not yet delivered)",
        details=tuple(details),
    )
