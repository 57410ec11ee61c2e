"""The whole check, step by step: settings, tenant discovery, token, claims, sendMail.

``run_doctor`` yields one ``StepResult`` as each step finishes, so a CLI or a notebook can show
progress. A failed step marks the steps that need it as skipped, not failed: the token needs
discovery, the claims and the send need the token. The send does not need the claims to pass: a
token without Mail.Send is still sent, so Graph's own answer (the documented error code) is shown.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import requests

from .auth import AppToken, acquire_app_token, discover_tenant, find_tenant_cloud, request_token_like_postman
from .claims import check_claims, read_unverified_claims
from .diagnosis import Diagnosis, DiagnosisContext, diagnose
from .errors import (
    AmbiguousSendError,
    DiscoveryError,
    GraphError,
    O365CheckError,
    ServiceError,
    ServiceUnreachableError,
    SettingsError,
    TokenError,
)
from .graph import RETRYABLE_STATUSES, send_mail
from .mail import build_test_message
from .settings import Settings

__all__ = ["STEP_TITLES", "DoctorReport", "StepResult", "run_doctor", "build_report"]

STEP_TITLES = {
    "settings": "Settings are complete and well-formed",
    "discovery": "Tenant is found (OpenID configuration)",
    "token": "App-only token from the token endpoint (MSAL)",
    "postman-token": "Token request as the guide's Postman test sends it",
    "claims": "Token claims: audience, tenant, app, Mail.Send role, expiry",
    "send": "Graph sendMail of a test message",
}
NEEDS = {
    "discovery": "settings",
    "token": "discovery",
    "postman-token": "discovery",
    "claims": "token",
    "send": "token",
}


@dataclass(frozen=True)
class StepResult:
    """What one step found. ``status`` is ``passed``, ``failed`` or ``skipped``."""

    name: str
    status: str
    summary: str
    error_code: str = ""
    diagnosis: Diagnosis | None = None
    details: tuple[tuple[str, str], ...] = ()
    warnings: tuple[Diagnosis, ...] = ()
    waited: float = 0.0
    exit_code: int = 0  # what this step alone would make the process exit with

    @property
    def title(self) -> str:
        return STEP_TITLES.get(self.name, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "error_code": self.error_code or None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "details": dict(self.details),
            "warnings": [w.to_dict() for w in self.warnings],
            "waited_seconds": round(self.waited, 3),
        }


@dataclass
class DoctorReport:
    """Every step plus advice; ``exit_code`` follows the project's convention (0/1/2/3)."""

    target: str
    settings: dict[str, str]
    steps: list[StepResult] = field(default_factory=list)
    advice: list[Diagnosis] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # field -> where its value came from
    description: str = ""  # the first line of the human output: what answered, and why that target

    @property
    def ok(self) -> bool:
        return all(step.status == "passed" for step in self.steps)

    @property
    def exit_code(self) -> int:
        codes = [s.exit_code for s in self.steps if s.status == "failed"]
        if not codes:
            return 0
        if 2 in codes:
            return 2
        return 3 if all(code == 3 for code in codes) else 1

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == "failed"), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "target": self.target,
            "target_description": self.description or self.target,
            "settings": self.settings,
            "sources": self.sources,
            "steps": [s.to_dict() for s in self.steps],
            "advice": [a.to_dict() for a in self.advice],
        }


def _context(settings: Settings) -> DiagnosisContext:
    return DiagnosisContext(
        tenant=settings.tenant_id, client_id=settings.client_id, sender=settings.sender, cloud=settings.cloud
    )


def _failed(name: str, error: Exception, settings: Settings, summary: str = "") -> StepResult:
    code = error.error_code if isinstance(error, ServiceError) else ""
    exit_code = getattr(error, "exit_code", 1)
    details: list[tuple[str, str]] = []
    if isinstance(error, TokenError):
        details += [
            (k, v)
            for k, v in (
                ("HTTP status", str(error.status or "")),
                ("Trace ID", error.trace_id),
                ("Correlation ID", error.correlation_id),
                ("Timestamp", error.timestamp),
            )
            if v
        ]
    if isinstance(error, GraphError):
        details += [
            (k, v)
            for k, v in (
                ("HTTP status", str(error.status)),
                ("Request ID", error.request_id),
                ("Client request ID", error.client_request_id),
                ("Date", error.date),
            )
            if v
        ]
    waited = sum(getattr(error, "waits", ()) or ())
    if waited:
        details.append(("Waited (Retry-After)", f"{waited:g} s"))
    return StepResult(
        name,
        "failed",
        summary or str(error),
        code,
        diagnose(error, _context(settings)),
        tuple(details),
        waited=waited,
        exit_code=exit_code if exit_code in (2, 3) else 1,
    )


_T = TypeVar("_T")


def _skipped(name: str, because: str) -> StepResult:
    return StepResult(name, "skipped", f"skipped: step {because!r} did not pass")


# Told each wait before it starts: (seconds, why), so a terminal can show it while it lasts.
Waiting = Callable[[float, str], None]


def _with_retry_after(
    call: Callable[[], _T], max_wait: float, sleep: Callable[[float], None], waiting: Waiting | None = None
) -> tuple[_T, float]:
    """Discovery and token requests are safe to repeat: honour Retry-After on 429/503 within ``max_wait``."""
    waited = 0.0
    while True:
        try:
            return call(), waited
        except (TokenError, DiscoveryError) as exc:  # MSAL repeats discovery: it can be throttled too
            wait = exc.retry_after
            if exc.status in RETRYABLE_STATUSES and wait is not None and waited + wait <= max_wait:
                if waiting is not None:
                    waiting(wait, f"the identity platform answered {exc.status} with Retry-After {wait:g} s")
                sleep(wait)
                waited += wait
                continue
            exc.waits = (waited,) if waited else ()  # type: ignore[union-attr]
            raise


def run_doctor(
    settings: Settings,
    session: requests.Session,
    *,
    sandbox: Any = None,
    postman: bool = False,
    max_wait: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    waiting: Waiting | None = None,
) -> Iterator[StepResult]:
    """Run every step against ``session`` and yield each result as it is known.

    ``waiting(seconds, why)`` is told of each Retry-After wait before ``sleep`` starts it.
    ``max_wait`` is the total time all steps together may wait for Retry-After (issue 9 item 7).
    """
    passed: set[str] = set()
    waited_so_far = 0.0

    def left() -> float:
        return max(0.0, max_wait - waited_so_far)

    def ran(result: StepResult) -> StepResult:
        if result.status == "passed":
            passed.add(result.name)
        return result

    # 1. settings
    try:
        warnings = settings.validate()
    except SettingsError as exc:
        errors = [p for p in exc.problems if p.severity == "error"]
        yield ran(
            StepResult(
                "settings",
                "failed",
                f"{len(errors)} setting(s) need fixing",
                errors[0].code,
                diagnose(errors[0], _context(settings)),
                tuple((p.field, f"{p.message}: {p.value}" if p.value else p.message) for p in exc.problems),
                tuple(diagnose(p, _context(settings)) for p in exc.problems[1:]),
                exit_code=2,
            )
        )
    else:
        yield ran(
            StepResult(
                "settings",
                "passed",
                "every value is present and well-formed" + (f" ({len(warnings)} warning(s))" if warnings else ""),
                details=_settings_details(settings, with_sources=True),
                warnings=tuple(diagnose(w, _context(settings)) for w in warnings),
            )
        )

    # 2. tenant discovery
    if "settings" not in passed:
        yield _skipped("discovery", "settings")
    else:
        try:  # a GET, safe to repeat: a 429/503 is retried after its Retry-After, within the budget
            config, waited = _with_retry_after(lambda: discover_tenant(settings, session), left(), sleep)
            waited_so_far += waited
        except DiscoveryError as exc:
            waited_so_far += sum(getattr(exc, "waits", ()))
            yield ran(_discovery_failed(exc, settings, session))
        except O365CheckError as exc:
            yield ran(_failed("discovery", exc, settings))
        else:
            yield ran(
                StepResult(
                    "discovery",
                    "passed",
                    f"token endpoint {config['token_endpoint']}",
                    details=(
                        ("Issuer", str(config.get("issuer", ""))),
                        ("Graph host", str(config.get("msgraph_host", ""))),
                    ),
                )
            )

    # 3. token (MSAL), and optionally the Postman-style request
    token: AppToken | None = None
    for name, call in (("token", acquire_app_token), ("postman-token", request_token_like_postman)):
        if name == "postman-token" and not postman:
            continue
        if "discovery" not in passed:
            yield _skipped(name, "discovery")
            continue
        try:
            got, waited = _with_retry_after(functools.partial(call, settings, session), left(), sleep, waiting)
            waited_so_far += waited
        except O365CheckError as exc:
            waited_so_far += sum(getattr(exc, "waits", ()))
            yield ran(_failed(name, exc, settings))
            continue
        token = token or got
        yield ran(
            StepResult(
                name,
                "passed",
                f"{got.token_type} token, expires in {got.expires_in} s ({got.token_source})"
                + (f"; after waiting {waited:g} s as Retry-After asked" if waited else ""),
                details=(("Method", got.method), ("Token", "received (not shown)")),
                waited=waited,
            )
        )

    # 4. claims
    if token is None:
        yield _skipped("claims", "token")
    else:
        yield ran(_claims_step(token, settings))

    # 5. sendMail of the test message
    if token is None:
        yield _skipped("send", "token")
    else:
        yield ran(_send_step(token, settings, session, sandbox, left(), sleep, waiting))


def _discovery_failed(error: DiscoveryError, settings: Settings, session: requests.Session) -> StepResult:
    """A tenant that is not found here may live in another national cloud (reference §5: AADSTS90002/90038)."""
    result = _failed("discovery", error, settings)
    if error.error_code != "AADSTS90002":
        return result
    other = find_tenant_cloud(settings, session)
    if other is None:
        return result
    from .clouds import CLOUDS

    hint = (
        f"The tenant {settings.tenant_id!r} exists in the {CLOUDS[other].title} cloud, not in {CLOUDS[settings.cloud].title}: "
        f"set O365CHECK_CLOUD={other} (or --cloud {other})."
    )
    diagnosis = replace(result.diagnosis, fixes=(hint, *result.diagnosis.fixes)) if result.diagnosis else None
    return replace(
        result,
        summary=f"{result.summary}. {hint}",
        diagnosis=diagnosis,
        details=(*result.details, ("Found in cloud", other)),
    )


_SHOWN_FIELDS = (
    ("Tenant", "tenant_id"),
    ("Client ID", "client_id"),
    ("Credential", "client_secret"),
    ("Sender", "sender"),
    ("Recipient", "recipient"),
    ("Cloud", "cloud"),
)


def _settings_details(settings: Settings, *, with_sources: bool = False) -> tuple[tuple[str, str], ...]:
    """The values checked; ``with_sources`` adds where each came from ("from AZURE_TENANT_ID in .env line 2")."""
    credential = "client secret (not shown)" if settings.client_secret else f"certificate {settings.certificate_path}"
    values = {
        "Tenant": settings.tenant_id,
        "Client ID": settings.client_id,
        "Credential": credential,
        "Sender": settings.sender,
        "Recipient": settings.effective_recipient,
        "Cloud": settings.cloud,
    }
    if not with_sources:
        return tuple(values.items())
    return tuple((label, _with_source(settings, label, name, values[label])) for label, name in _SHOWN_FIELDS)


def _with_source(settings: Settings, label: str, name: str, value: str) -> str:
    if label == "Credential" and not settings.client_secret:
        name = "certificate_path"
    if label == "Recipient" and not settings.recipient:
        return f"{value} (the sender itself: no recipient given)"
    if name == "cloud" and settings.sources.get(name, "default") == "default":
        return f"{value} (default)"
    where = settings.sources.get(name, "")
    return f"{value} (from {where})" if where else value


def settings_sources(settings: Settings) -> dict[str, str]:
    """Label -> where the value came from, for the JSON report."""
    found = {label: settings.sources.get(name, "") for label, name in _SHOWN_FIELDS}
    if not settings.client_secret and settings.certificate_path:
        found["Credential"] = settings.sources.get("certificate_path", "")
    found["Cloud"] = found["Cloud"] or "default"
    return {label: where for label, where in found.items() if where}


def _claims_step(token: AppToken, settings: Settings) -> StepResult:
    try:
        claims = read_unverified_claims(token.access_token.reveal())
    except ValueError as exc:
        return StepResult(
            "claims", "failed", str(exc), "claims-unreadable", diagnose("claims-unreadable", _context(settings))
        )
    checks = check_claims(claims, settings)
    details = tuple((c.claim, f"{c.actual} ({'ok' if c.passed else 'expected ' + c.expected})") for c in checks)
    failed = [c for c in checks if not c.passed]
    if not failed:
        return StepResult(
            "claims", "passed", "audience, tenant, app, Mail.Send role and expiry are as expected", details=details
        )
    first = failed[0]
    return StepResult(
        "claims",
        "failed",
        f"{first.claim}: {first.actual} (expected {first.expected})",
        first.code,
        diagnose(first.code, _context(settings)),
        details,
        tuple(diagnose(c.code, _context(settings)) for c in failed[1:]),
    )


def _send_step(
    token: AppToken,
    settings: Settings,
    session: requests.Session,
    sandbox: Any,
    max_wait: float,
    sleep: Callable[[float], None],
    waiting: Waiting | None = None,
) -> StepResult:
    to = settings.effective_recipient
    before = len(sandbox.outbox) if sandbox is not None else 0
    answers: list[str] = []

    def wait(seconds: float) -> None:
        if waiting is not None:
            waiting(seconds, f"Graph answered {answers[-1] if answers else '429/503'} and asked to wait (Retry-After)")
        sleep(seconds)

    def heard(error: GraphError) -> None:
        answers.append(f"{error.status} {error.code}")

    try:
        result = send_mail(
            session,
            settings,
            token.access_token,
            build_test_message(settings.sender, to),
            max_wait=max_wait,
            sleep=wait,
            on_retry=heard,
        )
    except AmbiguousSendError as exc:
        return StepResult("send", "failed", str(exc), "send-ambiguous", diagnose(exc, _context(settings)), exit_code=3)
    except ServiceUnreachableError as exc:
        return _failed("send", exc, settings)
    except GraphError as exc:
        waits = getattr(exc, "waits", ())
        summary = str(exc)
        if exc.status in RETRYABLE_STATUSES and exc.retry_after is not None and exc.retry_after > max_wait - sum(waits):
            summary += _gave_up(exc.retry_after, tuple(waits), max_wait)
        elif waits:
            summary += f" (after waiting {_seconds(waits)} as Retry-After asked)"
        return _failed("send", exc, settings, summary)
    details = [
        ("Graph status", f"{result.status} Accepted"),
        ("To", to),
        ("Request ID", result.request_id),
        ("Client request ID", result.client_request_id),
    ]
    if result.waits:
        details.append(("Waited (Retry-After)", " + ".join(f"{w:g} s" for w in result.waits)))
    if sandbox is not None:
        landed = len(sandbox.outbox) - before
        details.append(("Sandbox outbox", f"{landed} new message(s), {len(sandbox.outbox)} in all"))
    after = f"; after waiting {_seconds(result.waits)} as Retry-After asked" if result.waits else ""
    return StepResult(
        "send",
        "passed",
        f"accepted for delivery to {to} (202; accepted is not yet delivered{after})",
        details=tuple(details),
        waited=result.waited,
    )


def _seconds(waits: tuple[float, ...] | list[float]) -> str:
    return " + ".join(f"{w:g} s" for w in waits)


def _gave_up(retry_after: float, waits: tuple[float, ...], max_wait: float) -> str:
    """What was waited and what came after, when the next Retry-After did not fit in ``max_wait``."""
    if waits:
        return (
            f" (waited {_seconds(waits)} as Retry-After asked; then Graph asked for {retry_after:g} s more, beyond "
            f"--max-wait {max_wait:g} s, so o365check stopped: run it again later or raise --max-wait)"
        )
    return (
        f" (Graph asked to wait {retry_after:g} s (Retry-After), longer than --max-wait {max_wait:g} s: o365check did "
        f"not wait; run it again later, or pass --max-wait {retry_after:g} to wait it out)"
    )


def build_report(settings: Settings, steps: list[StepResult], target: str) -> DoctorReport:
    """The report of a finished run, with advice at the end.

    Mail.Send is tenant-wide unless scoped: said only after a successful send (a failed send is about
    its own diagnosis; an access-policy or RBAC refusal means the app is already scoped).
    """
    report = DoctorReport(target, dict(_settings_details(settings)), list(steps), sources=settings_sources(settings))
    send = next((s for s in steps if s.name == "send"), None)
    if send is not None and send.status == "passed":
        report.advice.append(diagnose("mail-send-tenant-wide", _context(settings)))
    return report
