"""In-process routing: a requests transport adapter that runs the sandbox WSGI app directly.

Mounted on a ``requests.Session`` for every Microsoft host (https and http), it turns a
``PreparedRequest`` into a WSGI call and the answer into a real ``requests.Response`` that MSAL
and ``response.json()`` accept. No socket is opened.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import timedelta
from time import perf_counter
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from .app import AMBIGUOUS_ENVIRON_KEY
from .hosts import MICROSOFT_HOSTS

__all__ = ["SandboxAdapter", "mount_sandbox"]


class SandboxAdapter(BaseAdapter):
    """A requests adapter whose "network" is a WSGI app."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        super().__init__()
        self.app = app

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        started = perf_counter()
        body = request.body
        if body is not None and not isinstance(body, bytes):
            body = body.encode("utf-8") if isinstance(body, str) else b"".join(body)
        builder = EnvironBuilder(
            method=request.method or "GET",
            base_url=_base_of(request.url or ""),
            path=_path_of(request.url or ""),
            headers=list(request.headers.items()),
            data=body or b"",
        )
        environ = builder.get_environ()
        builder.close()
        started_response: list[Any] = []
        # Called directly (not werkzeug.test.run_wsgi_app, which copies the environ) so the
        # app's ambiguous-fault mark is visible here afterwards.
        app_iter = self.app(environ, lambda status, headers, exc_info=None: started_response.append((status, headers)))
        try:
            content = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        status, header_list = started_response[-1]
        headers = Headers(header_list)
        kind = environ.get(AMBIGUOUS_ENVIRON_KEY)
        if kind == "reset":
            # The message went into the outbox; the answer is lost (an ambiguous outcome).
            raise requests.ConnectionError(
                "Connection aborted: the sandbox reset the connection after accepting the request",
                request=request,
            )
        if kind == "timeout":
            raise requests.ReadTimeout(
                "Read timed out: the sandbox accepted the request and never answered", request=request
            )
        return self._build_response(request, status, headers, content, perf_counter() - started)

    def _build_response(
        self, request: requests.PreparedRequest, status: str, headers: Any, content: bytes, elapsed: float
    ) -> requests.Response:
        response = requests.Response()
        code, _, reason = status.partition(" ")
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = HTTPResponse(
            body=io.BytesIO(content),
            headers=dict(headers.items()),
            status=int(code),
            reason=reason,
            preload_content=False,
            decode_content=False,
        )
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]  # requests' own flag, untyped
        response.url = request.url or ""
        response.request = request
        response.elapsed = timedelta(seconds=elapsed)
        response.connection = self  # type: ignore[assignment]  # requests reads .connection as any adapter
        return response

    def close(self) -> None:
        pass


def _base_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _path_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host_and_path = rest.split("#", 1)[0]
    return "/" + host_and_path.split("/", 1)[1] if "/" in host_and_path else "/"


def mount_sandbox(
    session: requests.Session, app: Callable[..., Iterable[bytes]], hosts: Iterable[str] = MICROSOFT_HOSTS
) -> SandboxAdapter:
    """Route every Microsoft host (https and http) of ``session`` to ``app``, in-process."""
    adapter = SandboxAdapter(app)
    for host in sorted(hosts):
        session.mount(f"https://{host}/", adapter)
        session.mount(f"http://{host}/", adapter)
    return adapter
