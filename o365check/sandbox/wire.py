"""What every sandbox answer looks like on the wire, as Microsoft's front ends send it.

One ``Date`` (the app's own: the server adds none), the reason phrases of HTTP.sys / Azure Front
Door, which are RFC 9110's (``401 Unauthorized``, not Werkzeug's ``401 UNAUTHORIZED``; python-o365
puts the phrase into its error text), and no ``Server`` banner (real identity and Graph answers carry
none; reference §1.2 and §4.2 list their headers).
"""

from __future__ import annotations

from email.utils import formatdate
from http import HTTPStatus

from werkzeug.wrappers import Response

__all__ = ["REASON_PHRASES", "reason_phrase", "http_date", "finish_response"]

# Spelled out rather than taken from http.HTTPStatus: Python 3.13 renamed 413 to "Content Too Large",
# while Microsoft's front ends still send the RFC 7231 phrase.
REASON_PHRASES: dict[int, str] = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def reason_phrase(status: int) -> str:
    phrase = REASON_PHRASES.get(status)
    if phrase is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
    return phrase


def http_date(now: float | None = None) -> str:
    """An IMF-fixdate (``Sun, 29 Nov 2026 18:05:04 GMT``) for ``now`` (default: the wall clock)."""
    return formatdate(now, usegmt=True)


def finish_response(response: Response) -> Response:
    """Microsoft's reason phrase, exactly one ``Date``, no ``Server``."""
    response.status = f"{response.status_code} {reason_phrase(response.status_code)}".rstrip()
    dates = response.headers.getlist("Date")
    if len(dates) != 1:
        response.headers["Date"] = dates[0] if dates else http_date()
    response.headers.pop("Server", None)
    return response
