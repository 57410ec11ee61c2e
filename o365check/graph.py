"""Microsoft Graph ``sendMail``; Graph's error JSON becomes a GraphError subclass here.

Retry policy (the only place that retries a Graph call): a 429 or 503 is a definite "not
accepted", so the same request is sent again after the ``Retry-After`` it names, as long as the
total wait stays within ``max_wait``; a retry before Retry-After would only earn another 429
(reference §7, dev-proxy RetryAfterPlugin). A timeout or a dropped connection *after* the request
went out is ambiguous: the message may have been sent, so it is never sent again
(``AmbiguousSendError``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from .clouds import cloud_named
from .errors import AmbiguousSendError, GraphError
from .http import describe_connection_error, retry_after_seconds, went_out
from .settings import Secret, Settings

__all__ = ["RETRYABLE_STATUSES", "SendResult", "send_mail", "send_mail_url"]

RETRYABLE_STATUSES = (429, 503)
DEFAULT_RETRY_AFTER = 5.0  # when a 429/503 names no Retry-After (Graph SDKs back off similarly)


@dataclass(frozen=True)
class SendResult:
    """Graph accepted the message (202). Accepted is not delivered (reference §4.1)."""

    status: int
    request_id: str
    client_request_id: str
    attempts: int = 1
    waits: tuple[float, ...] = field(default=())

    @property
    def waited(self) -> float:
        return sum(self.waits)


def send_mail_url(settings: Settings, sender: str | None = None) -> str:
    cloud = cloud_named(settings.cloud)
    return f"{cloud.graph_base}/v1.0/users/{quote(sender or settings.sender, safe='@')}/sendMail"


def _graph_error(response: requests.Response, url: str) -> GraphError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return GraphError.from_body(
        response.status_code,
        body,
        reason=response.reason or "",
        text=response.text or "",
        request_id=response.headers.get("request-id", ""),
        client_request_id=response.headers.get("client-request-id", ""),
        retry_after=retry_after_seconds(response),
        url=url,
    )


def send_mail(
    session: requests.Session,
    settings: Settings,
    token: Secret,
    payload: dict[str, Any],
    *,
    max_wait: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[GraphError], None] | None = None,
) -> SendResult:
    """POST the payload to ``/users/<sender>/sendMail`` with the app token; 202 or a GraphError.

    ``on_retry`` hears each 429/503 that will be waited out (before ``sleep``), so callers can say why.
    """
    url = send_mail_url(settings)
    waits: list[float] = []
    attempts = 0
    while True:
        attempts += 1
        client_request_id = str(uuid.uuid4())
        headers = {
            "Authorization": f"Bearer {token.reveal()}",
            "Content-Type": "application/json",
            "client-request-id": client_request_id,  # echoed by Graph: support needs it (reference §4.2)
        }
        try:
            response = session.post(url, json=payload, headers=headers)
        except requests.RequestException as exc:
            if went_out(exc):
                reason = (
                    "no answer came back in time"
                    if isinstance(exc, requests.Timeout)
                    else "the connection was dropped before the answer"
                )
                raise AmbiguousSendError(settings.sender, reason) from None
            raise describe_connection_error(exc, url) from None
        if response.status_code == 202:
            # The id Graph echoes (the one we sent, unless a recording replaced it by its placeholder).
            echoed = response.headers.get("client-request-id") or client_request_id
            return SendResult(202, response.headers.get("request-id", ""), echoed, attempts, tuple(waits))
        error = _graph_error(response, url)
        if response.status_code in RETRYABLE_STATUSES:
            wait = error.retry_after if error.retry_after is not None else DEFAULT_RETRY_AFTER
            if sum(waits) + wait <= max_wait:
                if on_retry is not None:
                    on_retry(error)
                sleep(wait)
                waits.append(wait)
                continue
        error.attempts = attempts  # type: ignore[attr-defined]
        error.waits = tuple(waits)  # type: ignore[attr-defined]
        raise error
