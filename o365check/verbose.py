"""``--verbose``: every request and response as sent and received, masked (like Newman's ``--verbose``).

It hooks the session a command is given (a ``requests`` response hook), so it sees whatever session
building decides (sandbox routing, recording, MSAL's requests through ``http_client``). Requests
dispatches the hook for every response of a redirect chain; ``response.history`` is read too, so a
chain is shown whole even when an earlier hop was not hooked.
"""

from __future__ import annotations

import weakref
from typing import Any, TextIO

import requests

from .redact import Redactor

__all__ = ["BODY_LIMIT", "attach_verbose", "format_exchange"]

BODY_LIMIT = 8000  # characters of a body shown; the rest is counted, not printed


def _body_text(body: Any) -> str:
    """The body as it went over the wire (not re-formatted), cut at BODY_LIMIT characters."""
    if body is None or body == b"" or body == "":
        return ""
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    elif isinstance(body, str):
        text = body
    else:  # a generator or file: requests streams it; we cannot show it without consuming it
        return f"({type(body).__name__} body, not shown)"
    if len(text) > BODY_LIMIT:
        text = text[:BODY_LIMIT] + f"\n... ({len(text) - BODY_LIMIT} more characters)"
    return text


def _headers(headers: Any, redactor: Redactor) -> list[str]:
    masked = redactor.data({str(k): str(v) for k, v in headers.items()})
    return [f"  {name}: {value}" for name, value in masked.items()]


def format_exchange(response: requests.Response, redactor: Redactor) -> str:
    """One request and its response, masked by value (the settings' secrets), by name and by shape."""
    request = response.request
    lines = [f"> {request.method} {redactor.text(str(request.url))}"]
    lines += _headers(request.headers, redactor)
    sent = _body_text(request.body)
    if sent:
        lines += ["", *("  " + line for line in redactor.text(sent).splitlines())]
    elapsed = getattr(response, "elapsed", None)
    took = f" ({elapsed.total_seconds() * 1000:.0f} ms)" if elapsed is not None else ""
    lines.append(f"< {response.status_code} {response.reason or ''}{took}".rstrip())
    lines += _headers(response.headers, redactor)
    try:
        received = _body_text(response.content)
    except RuntimeError:  # a streamed body already consumed
        received = "(streamed body, not shown)"
    if received:
        lines += ["", *("  " + line for line in redactor.text(received).splitlines())]
    return "\n".join(lines) + "\n"


def attach_verbose(session: requests.Session, redactor: Redactor, stream: TextIO) -> None:
    """Write every exchange of ``session`` to ``stream`` as it completes (secrets masked)."""
    shown: weakref.WeakSet[requests.Response] = weakref.WeakSet()  # ids could be reused; weak refs cannot

    def show(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        for hop in [*response.history, response]:
            if hop in shown:
                continue
            shown.add(hop)
            stream.write(format_exchange(hop, redactor) + "\n")
        stream.flush()
        return response

    session.hooks["response"].append(show)
