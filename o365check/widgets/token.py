"""``TokenPanel``: the token request as Postman sends it and through MSAL, then the decoded claims.

The request is shown before it is sent, byte for byte as the guide's Postman test builds it, with
the secret masked. The token goes into ``walkthrough.token`` (a ``Secret``), never into a widget;
the panel shows the token endpoint's raw answer (the token masked, as a Postman user expects to
see the response) and the claims, each with a verdict.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

import ipywidgets as w
import requests

from o365check.auth import AppToken, acquire_app_token, postman_token_request, request_token_like_postman
from o365check.claims import check_claims, read_unverified_claims
from o365check.diagnosis import diagnose
from o365check.errors import O365CheckError
from o365check.redact import MASK, Redactor

from . import render
from .base import History, Outcome, Panel, context_of, failure_html
from .state import Walkthrough

__all__ = ["TokenPanel", "TokenResponses", "describe_postman_request", "raw_response_text"]

_CHECKED = {"aud", "tid", "appid", "azp", "roles", "idtyp", "exp"}
_TIME_CLAIMS = ("iat", "nbf", "exp")
_TOKENS = ("access_token", "refresh_token", "id_token")


def describe_postman_request(walkthrough: Walkthrough) -> str:
    """The token request as Postman sends it (method, URL, headers, body), secret masked."""
    settings = walkthrough.target_settings
    request = postman_token_request(settings)
    lines = [str(request.method) + " " + str(request.url)]
    lines += [str(name) + ": " + str(value) for name, value in request.headers.items()]
    lines += ["", str(request.data)]
    return walkthrough.redactor().text("\n".join(lines))


class TokenResponses:
    """A session hook that keeps the token endpoint's raw answers (status, headers, body) as they arrive."""

    def __init__(self) -> None:
        self.seen: list[requests.Response] = []

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if "/oauth2/" in response.url and response.url.split("?")[0].endswith("/token"):
            self.seen.append(response)
        return response


def raw_response_text(response: requests.Response, redactor: Redactor) -> str:
    """The answer as Postman's response pane shows it: status, headers, JSON body; tokens masked."""
    lines = [f"HTTP {response.status_code} {response.reason or ''}".rstrip()]
    for name, value in response.headers.items():
        lines.append(f"{name}: {MASK if name.lower() in ('set-cookie', 'cookie') else value}")
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text
    else:
        if isinstance(body, dict):
            body = {k: (MASK if k in _TOKENS else v) for k, v in body.items()}
        text = json.dumps(body, indent=2)
    return redactor.text("\n".join([*lines, "", text]))


class TokenPanel(Panel):
    """Three buttons: show the Postman request, send it, or get the token through MSAL.

    Every request adds an entry on top of the history: the outcome, the raw answer of the token
    endpoint (token masked) and the decoded claims with a verdict each.
    """

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.show_request_button = w.Button(description="Show the Postman request", layout=w.Layout(width="auto"))
        self.postman_button = w.Button(
            description="Send it like Postman", button_style="primary", layout=w.Layout(width="auto")
        )
        self.msal_button = w.Button(
            description="Get a token with MSAL", button_style="primary", layout=w.Layout(width="auto")
        )
        self.history = History()
        self.widget = w.VBox(
            [w.HBox([self.show_request_button, self.postman_button, self.msal_button]), self.history.widget]
        )
        self.show_request_button.on_click(lambda _b: self.show_postman_request())
        self.postman_button.on_click(lambda _b: self.request_like_postman())
        self.msal_button.on_click(lambda _b: self.request_with_msal())

    # ---------------------------------------------------------------- actions
    def _request_html(self) -> str:
        try:
            text = describe_postman_request(self.walkthrough)
        except O365CheckError as exc:
            return self._failure(exc)
        return "<b>The guide's Postman token request</b> (the secret is masked here, not on the wire)" + render.pre(
            text, self.walkthrough.redactor()
        )

    def show_postman_request(self) -> Outcome:
        """Add what Postman would send (secret masked) to the history."""
        return self.history.add("The Postman token request (not sent)", self._request_html())

    def request_like_postman(self) -> Outcome:
        """Send the Postman-style request; the entry shows the request, the raw answer and the claims."""
        return self._request(request_token_like_postman, "the Postman-style request", self._request_html())

    def request_with_msal(self) -> Outcome:
        """Get the token through MSAL (what a program would do); the entry shows the raw answer and the claims."""
        return self._request(acquire_app_token, "MSAL")

    def _request(self, call: Any, how: str, before: str = "") -> Outcome:
        self.walkthrough.token = None
        responses = TokenResponses()
        title = f"Token with {how}"
        try:
            target = self.walkthrough.target()
            title += f" ({target.label})"
            target.settings.validate()
            target.session.hooks["response"].append(responses)
            try:
                token = call(target.settings, target.session)
            finally:
                target.session.hooks["response"].remove(responses)
        except O365CheckError as exc:
            body = before + self._failure(exc) + self._raw_html(responses)
            return self.history.record(title, body, None)
        self.walkthrough.token = token
        body = before + render.message(
            "ok",
            f"{token.token_type} token received with {how}: expires in {token.expires_in} s. "
            "The token itself stays in the kernel (masked below).",
        )
        body += self._raw_html(responses) + self.claims_html(token)
        return self.history.record(title, body, token)

    def _raw_html(self, responses: TokenResponses) -> str:
        if not responses.seen:
            return ""
        redactor = self.walkthrough.redactor()
        return "<b>Raw answer of the token endpoint</b> (as Postman shows it, the token masked)" + render.pre(
            raw_response_text(responses.seen[-1], redactor), redactor
        )

    def _failure(self, exc: Exception) -> str:
        return failure_html(exc, self.walkthrough.current_settings(), self.walkthrough.redactor())

    # ---------------------------------------------------------------- claims
    def claims_html(self, token: AppToken) -> str:
        """The decoded claims: the checked ones with a verdict each, then the rest."""
        settings = self.walkthrough.target_settings
        redactor = self.walkthrough.redactor()
        try:
            claims = read_unverified_claims(token.access_token.reveal())
        except ValueError as exc:
            return render.message("failed", str(exc)) + render.diagnosis_html(
                diagnose("claims-unreadable", context_of(settings)), redactor
            )
        checks = check_claims(claims, settings)
        rows = []
        for check in checks:
            status = "passed" if check.passed else ("warning" if check.severity == "warning" else "failed")
            verdict = render.badge(status) + ("" if check.passed else escape(f" expected {check.expected}"))
            rows.append((check.claim, check.actual, verdict))
        html = "<b>Claims (decoded, signature not verified: Graph tokens are for Graph to validate)</b>"
        html += render.kv_table(rows, ("Claim", "Value", "Verdict"), redactor, raw_columns=(2,))
        failed = [c for c in checks if not c.passed]
        if failed:
            html += render.diagnosis_html(diagnose(failed[0].code, context_of(settings)), redactor)
        others = [(name, _shown(name, value)) for name, value in claims.items() if name not in _CHECKED]
        if others:
            html += (
                "<details><summary>Other claims</summary>"
                + render.kv_table(others, ("Claim", "Value"), redactor)
                + "</details>"
            )
        return html


def _shown(name: str, value: Any) -> str:
    if name in _TIME_CLAIMS and isinstance(value, (int, float)):
        return f"{value} ({datetime.fromtimestamp(value, tz=UTC):%Y-%m-%d %H:%M:%S} UTC)"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
