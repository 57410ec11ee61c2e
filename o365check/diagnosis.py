"""Pure: an error or a finding in, a ``Diagnosis`` (what happened, how to fix it, where it is documented) out.

The advice itself is the table in ``diagnosis_catalog.py``; this module picks the entry (by AADSTS
code, Graph code and message, or finding code), fills in the user's values, and keeps the facts
support needs (trace/correlation/request ids). No I/O, no printing, no environment.
Every text that came from outside is passed through ``redact`` so no secret or token can leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import consent
from .clouds import CLOUDS, cloud_named
from .diagnosis_catalog import AADSTS, FALLBACKS, FINDINGS, GRAPH, GRAPH_VARIANTS, Entry
from .errors import (
    AmbiguousSendError,
    DiscoveryError,
    GraphError,
    O365CheckError,
    Problem,
    ServiceUnreachableError,
    SettingsError,
    TokenError,
)
from .redact import MASK, Redactor, is_secret_name

__all__ = ["Diagnosis", "DiagnosisContext", "diagnose", "format_diagnosis"]

_REDACT = Redactor()


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong, why, the numbered fixes, the source, and the facts support needs."""

    title: str
    explanation: str
    fixes: tuple[str, ...]
    reference: str
    code: str = ""
    details: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"title", "explanation", "fixes": [...], "reference", "code", "details": {...}}``."""
        return {
            "title": self.title,
            "explanation": self.explanation,
            "fixes": list(self.fixes),
            "reference": self.reference,
            "code": self.code,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class DiagnosisContext:
    """The user's values, used to fill commands and links; everything is optional."""

    tenant: str = ""
    client_id: str = ""
    sender: str = ""
    cloud: str = "global"


class _Fill(dict):
    """Template values; a name the context does not know stays visible as ``<name>``."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _template_values(ctx: DiagnosisContext, extra: dict[str, str]) -> _Fill:
    cloud = cloud_named(ctx.cloud if (ctx.cloud or "global").strip().lower() in CLOUDS else "global")
    tenant = ctx.tenant or consent.TENANT_PLACEHOLDER
    scoping = consent.mailbox_scoping(ctx.client_id, ctx.sender)
    values = _Fill(
        tenant=tenant,
        client_id=ctx.client_id or consent.CLIENT_ID_PLACEHOLDER,
        sender=ctx.sender or consent.SENDER_PLACEHOLDER,
        app=f"the app with client ID {ctx.client_id}" if ctx.client_id else "your app",
        portal=cloud.portal_host,
        login_host=cloud.login_host,
        graph_host=cloud.graph_host,
        graph_scope=cloud.graph_scope,
        graph_audience=cloud.graph_audience,
        token_url=cloud.token_url(tenant),
        consent_url=consent.admin_consent_url(ctx.tenant, ctx.client_id, cloud=cloud.name),
        permissions_hint=consent.api_permissions_portal_hint(ctx.client_id, cloud.name),
        scoping_policy="; ".join(scoping.access_policy),
        scoping_rbac="; ".join(scoping.rbac),
        scoping_verify="; ".join(scoping.verify),
    )
    values.update({k: v for k, v in extra.items() if v})
    return values


def _build(
    entry: Entry, ctx: DiagnosisContext, code: str, details: list[tuple[str, str]], extra: dict[str, str] | None = None
) -> Diagnosis:
    values = _template_values(ctx, {"code": code, **(extra or {})})
    kept = tuple((name, _REDACT.text(str(value))) for name, value in details if value not in (None, ""))
    return Diagnosis(
        title=entry.title.format_map(values),
        explanation=entry.explanation.format_map(values),
        fixes=tuple(fix.format_map(values) for fix in entry.fixes),
        reference=entry.reference,
        code=code,
        details=kept,
    )


def _literal(text: str) -> str:
    """``text`` as a template that formats to itself (outside text may contain braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def _first_line(description: str) -> str:
    """The AADSTS sentence, without the Trace ID / Correlation ID / Timestamp lines (kept separately)."""
    return re.split(r"\r?\n", description.strip(), maxsplit=1)[0] if description else ""


def _diagnose_token_error(err: TokenError, ctx: DiagnosisContext) -> Diagnosis:
    code = err.error_code
    details = [
        ("Error", err.error),
        ("Message", _first_line(err.description)),
        ("HTTP status", str(err.status or "")),
        ("Trace ID", err.trace_id),
        ("Correlation ID", err.correlation_id),
        ("Timestamp", err.timestamp),
        ("Host", err.host),
    ]
    entry = AADSTS.get(err.aadsts) if err.aadsts is not None else None  # keyed on error_codes[0], §1.3
    if entry is None:
        page = err.error_uri or (
            f"https://login.microsoftonline.com/error?code={err.aadsts}"
            if err.aadsts
            else FALLBACKS["aadsts-unknown"].reference
        )
        return _build(FALLBACKS["aadsts-unknown"], ctx, code or "unknown", details, {"error_page": page})
    return _build(entry, ctx, code, details)


def _graph_entry_key(err: GraphError) -> str | None:
    message = (err.message or "").lower()
    for needle, key in GRAPH_VARIANTS.get(err.code, ()):
        if needle in message:
            return key
    if err.code in GRAPH:
        return err.code
    if err.status == 429:
        return "TooManyRequests"
    if err.status is not None and err.status >= 500:
        return "serviceNotAvailable"
    return None


def _diagnose_graph_error(err: GraphError, ctx: DiagnosisContext) -> Diagnosis:
    details = [
        ("Message", err.message),
        ("HTTP status", str(err.status or "")),
        ("Request ID", err.request_id),
        ("Client request ID", err.client_request_id),
        ("Date", err.date),
        ("Retry-After", "" if err.retry_after is None else f"{err.retry_after:g} s"),
        ("URL", err.url),
    ]
    retry = {
        "retry_after": "none given: start with a few seconds" if err.retry_after is None else f"{err.retry_after:g} s"
    }
    key = _graph_entry_key(err)
    entry = GRAPH[key] if key else FALLBACKS["graph-unknown"]
    return _build(entry, ctx, err.code or f"HTTP {err.status}", details, retry)


def _diagnose_problem(problem: Problem, ctx: DiagnosisContext) -> Diagnosis:
    # Settings mask secret values already; mask again by field name in case one slipped through.
    value = MASK if problem.value and is_secret_name(problem.field) else problem.value
    details = [("Field", problem.field), ("Value", value), ("Problem", f"{problem.message}. {problem.fix}")]
    entry = FINDINGS.get(problem.code)
    if entry is None:  # a finding we have no entry for: its own message and fix are the advice
        entry = Entry(
            _literal(f"{problem.field} {problem.message}"),
            "o365check stops here rather than check something you did not mean.",
            (_literal(problem.fix),) if problem.fix else (),
            FALLBACKS["settings-several"].reference,
        )
        details = details[:2]  # the title and the fix already say it
    return _build(entry, ctx, problem.code, details)


def _diagnose_settings_error(err: SettingsError, ctx: DiagnosisContext) -> Diagnosis:
    errors = [p for p in err.problems if p.severity == "error"] or list(err.problems)
    if len(errors) == 1:
        return _diagnose_problem(errors[0], ctx)
    parts = [_diagnose_problem(p, ctx) for p in errors]
    fixes = tuple(_literal(f"{d.title}: {d.fixes[0]}" if d.fixes else d.title) for d in parts)
    several = FALLBACKS["settings-several"]
    entry = Entry(f"{len(parts)} settings need fixing", several.explanation, fixes, several.reference)
    details = [(f"Problem {i}", f"{p.field} ({p.code or 'no code'})") for i, p in enumerate(errors, 1)]
    return _build(entry, ctx, "settings", details)


def _diagnose_finding(code: str, ctx: DiagnosisContext) -> Diagnosis:
    entry = FINDINGS.get(code)
    if entry is None:
        return _build(FALLBACKS["unexpected-error"], ctx, code, [("Finding", code)])
    return _build(entry, ctx, code, [])


def diagnose(subject: object, context: DiagnosisContext | None = None) -> Diagnosis:
    """Explain ``subject`` and say how to fix it; never returns None.

    ``subject`` may be a TokenError, DiscoveryError, GraphError, Problem, SettingsError,
    ServiceUnreachableError, AmbiguousSendError, a finding code string (``"claims-roles-missing"``),
    or any other exception. An unknown code still gives a Diagnosis that shows the code, the
    message and the trace/correlation/request ids, and says what to send to support.
    """
    ctx = context or DiagnosisContext()
    if isinstance(subject, TokenError):
        return _diagnose_token_error(subject, ctx)
    if isinstance(subject, DiscoveryError):
        if subject.token_error is not None:
            return _diagnose_token_error(subject.token_error, ctx)
        details = [("Tenant", subject.tenant), ("Host", subject.host), ("HTTP status", str(subject.status or ""))]
        return _build(
            FALLBACKS["discovery-failed"],
            ctx,
            "discovery-failed",
            details,
            {"host": subject.host, "tenant": subject.tenant},
        )
    if isinstance(subject, GraphError):
        return _diagnose_graph_error(subject, ctx)
    if isinstance(subject, Problem):
        return _diagnose_problem(subject, ctx)
    if isinstance(subject, SettingsError):
        return _diagnose_settings_error(subject, ctx)
    if isinstance(subject, ServiceUnreachableError):
        return _build(
            FINDINGS["service-unreachable"],
            ctx,
            "service-unreachable",
            [("Host", subject.host), ("Reason", subject.reason)],
            {"host": subject.host, "reason": _REDACT.text(subject.reason)},
        )
    if isinstance(subject, AmbiguousSendError):
        sender_ctx = ctx if ctx.sender else DiagnosisContext(ctx.tenant, ctx.client_id, subject.sender, ctx.cloud)
        return _build(
            FINDINGS["send-ambiguous"],
            sender_ctx,
            "send-ambiguous",
            [("Sender", subject.sender), ("Reason", subject.reason)],
            {"reason": _REDACT.text(subject.reason)},
        )
    if isinstance(subject, str):
        return _diagnose_finding(subject.strip(), ctx)
    return _diagnose_other(subject, ctx)


def _diagnose_other(subject: object, ctx: DiagnosisContext) -> Diagnosis:
    """Any other exception (or object): its type and redacted message, and what to tell support."""
    name = type(subject).__name__
    message = _REDACT.text(str(subject))
    entry = FALLBACKS["unexpected-error"]
    if isinstance(subject, O365CheckError):  # our own errors already read as advice
        doc = (type(subject).__doc__ or "").strip().splitlines()
        title = doc[0].rstrip(".") if doc else name
        entry = Entry(_literal(title), _literal(message), entry.fixes, entry.reference)
    return _build(entry, ctx, name, [("Error type", name), ("Message", message)])


def format_diagnosis(d: Diagnosis) -> str:
    """Plain text for CLI, reporters and notebooks: title, explanation, numbered fixes, reference, details."""
    lines = [d.title, d.explanation]
    for number, fix in enumerate(d.fixes, 1):
        first, *rest = fix.splitlines() or [""]
        lines.append(f"{number}. {first}")
        lines.extend(f"   {more}" for more in rest)
    lines.append(f"Reference: {d.reference}")
    if d.code:
        lines.append(f"Code: {d.code}")
    lines.extend(f"{name}: {value}" for name, value in d.details)
    return "\n".join(lines)
