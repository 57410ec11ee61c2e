"""o365check: set up, check and debug an Entra ID app that sends mail through Microsoft Graph.

The public API is listed in ``__all__``; names load on first use (PEP 562), so ``import o365check``
and ``o365check --help`` stay fast. The CLI (click) and the notebook widgets (ipywidgets) are not
part of it: nothing here imports them.

    >>> from o365check import Settings, open_target, run_doctor
    >>> target = open_target(Settings())            # no credentials: the built-in sandbox
    >>> [step.status for step in run_doctor(target.settings, target.session, sandbox=target.sandbox)]
    ['passed', 'passed', 'passed', 'passed', 'passed']
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # settings and targets
    "Settings": "settings",
    "Secret": "settings",
    "Target": "targets",
    "open_target": "targets",
    "Cloud": "clouds",
    "CLOUDS": "clouds",
    "cloud_named": "clouds",
    # the check
    "run_doctor": "doctor",
    "build_report": "doctor",
    "DoctorReport": "doctor",
    "StepResult": "doctor",
    "AppToken": "auth",
    "acquire_app_token": "auth",
    "request_token_like_postman": "auth",
    "discover_tenant": "auth",
    "read_unverified_claims": "claims",
    "check_claims": "claims",
    "ClaimCheck": "claims",
    "build_test_message": "mail",
    "send_mail": "graph",
    "SendResult": "graph",
    # the SMTP AUTH XOAUTH2 check (doctor --via smtp)
    "run_smtp_doctor": "smtp_doctor",
    "open_smtp_channel": "smtp_doctor",
    "SmtpOptions": "smtp",
    "SmtpReplyError": "smtp",
    "diagnose_smtp": "smtp_diagnosis",
    # advice
    "Diagnosis": "diagnosis",
    "DiagnosisContext": "diagnosis",
    "diagnose": "diagnosis",
    "format_diagnosis": "diagnosis",
    "admin_consent_url": "consent",
    "mailbox_scoping": "consent",
    "Redactor": "redact",
    # errors
    "O365CheckError": "errors",
    "UsageError": "errors",
    "SettingsError": "errors",
    "Problem": "errors",
    "CollectionLoadError": "errors",
    "SecretRoutingError": "errors",
    "CassetteError": "errors",
    "ReplayMismatchError": "errors",
    "ServiceUnreachableError": "errors",
    "AmbiguousSendError": "errors",
    "ServiceError": "errors",
    "DiscoveryError": "errors",
    "TokenError": "errors",
    "GraphError": "errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'o365check' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
