"""``TokenPanel``: the token request as Postman sends it and through MSAL, then the decoded claims.

The request is shown before it is sent, byte for byte as the guide's Postman test builds it, with
the secret masked. The token goes into ``walkthrough.token`` (a ``Secret``), never into a widget;
the panel shows its claims, each with a verdict.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import ipywidgets as w

from o365check.auth import AppToken, acquire_app_token, postman_token_request, request_token_like_postman
from o365check.claims import check_claims, read_unverified_claims
from o365check.diagnosis import diagnose
from o365check.errors import O365CheckError

from . import render
from .base import Panel, context_of, failure_html
from .state import Walkthrough

__all__ = ["TokenPanel", "describe_postman_request"]

_CHECKED = {"aud", "tid", "appid", "azp", "roles", "idtyp", "exp"}
_TIME_CLAIMS = ("iat", "nbf", "exp")


def describe_postman_request(walkthrough: Walkthrough) -> str:
    """The token request as Postman sends it (method, URL, headers, body), secret masked."""
    settings = walkthrough.target_settings
    request = postman_token_request(settings)
    lines = [f"{request.method} {request.url}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    lines += ["", str(request.data)]
    return walkthrough.redactor().text("\n".join(lines))


class TokenPanel(Panel):
    """Three buttons: show the Postman request, send it, or get the token through MSAL."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.show_request_button = w.Button(description="Show the Postman request", layout=w.Layout(width="auto"))
        self.postman_button = w.Button(
            description="Send it like Postman", button_style="primary", layout=w.Layout(width="auto")
        )
        self.msal_button = w.Button(
            description="Get a token with MSAL", button_style="primary", layout=w.Layout(width="auto")
        )
        self.request_view = w.HTML()
        self.result = w.HTML()
        self.claims_view = w.HTML()
        self.widget = w.VBox(
            [
                w.HBox([self.show_request_button, self.postman_button, self.msal_button]),
                self.request_view,
                self.result,
                self.claims_view,
            ]
        )
        self.show_request_button.on_click(lambda _b: self.show_postman_request())
        self.postman_button.on_click(lambda _b: self.request_like_postman())
        self.msal_button.on_click(lambda _b: self.request_with_msal())
        walkthrough.on_change(self._forget_view)

    def _forget_view(self) -> None:
        self.result.value = ""
        self.claims_view.value = ""

    # ---------------------------------------------------------------- actions
    def show_postman_request(self) -> None:
        """Fill the request view with what Postman would send (secret masked)."""
        try:
            text = describe_postman_request(self.walkthrough)
        except O365CheckError as exc:
            self.request_view.value = self._failure(exc)
            return
        self.request_view.value = "<b>The guide's Postman token request</b>" + render.pre(
            text, self.walkthrough.redactor()
        )

    def request_like_postman(self) -> AppToken | None:
        """Send the Postman-style request; show the answer and the claims."""
        self.show_postman_request()
        return self._request(request_token_like_postman, "the Postman-style request")

    def request_with_msal(self) -> AppToken | None:
        """Get the token through MSAL (what a program would do); show the claims."""
        return self._request(acquire_app_token, "MSAL")

    def _request(self, call: Any, how: str) -> AppToken | None:
        self.walkthrough.token = None
        self.claims_view.value = ""
        self.result.value = render.message("info", f"Requesting a token with {how}...")
        try:
            target = self.walkthrough.target()
            target.settings.validate()
            token = call(target.settings, target.session)
        except O365CheckError as exc:
            self.result.value = self._failure(exc)
            return None
        self.walkthrough.token = token
        self.result.value = render.message(
            "ok",
            f"{token.token_type} token received with {how} ({target.label}): expires in {token.expires_in} s. "
            "The token itself is kept in the kernel, not shown.",
        )
        self.claims_view.value = self.claims_html(token)
        return token

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
            rows.append(
                (render.badge(status), check.claim, check.actual, "" if check.passed else f"expected {check.expected}")
            )
        html = "<b>Claims (decoded, signature not verified: Graph tokens are for Graph to validate)</b>"
        html += render.kv_table(rows, ("", "Claim", "Value", "Verdict"), redactor, raw_columns=(0,))
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
