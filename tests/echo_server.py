"""A loopback stand-in for postman-echo.com, for running Newman's fixtures and our conformance
collections offline with Newman and with o365check against the same server.

The answers follow the shapes postman-echo.com gives (what the corpus scripts read):
``/get`` -> ``{args, headers, url}``; ``/post|put|patch|delete`` -> ``{args, data, files, form,
headers, json, url}``; ``/status/N`` -> ``{status}``; ``/headers``; ``/response-headers``;
``/delay/N`` (capped, to keep tests fast); ``/basic-auth`` (postman/password); ``/cookies``,
``/cookies/set``; ``/redirect-to``; ``/type/xml|html``. Anything else echoes like ``/get``.

``serve_echo()`` runs it with werkzeug on 127.0.0.1 in a thread; ``rewrite_echo_urls`` points a
copy of a collection at it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

__all__ = ["PostmanEchoApp", "serve_echo", "rewrite_echo_urls", "ECHO_ORIGINS"]

# The origins the corpus addresses for its echo service (reference: corpus README, newman fixtures).
ECHO_ORIGINS = (
    "https://postman-echo.com",
    "http://postman-echo.com",
    "http://echo.getpostman.com",
    "https://echo.getpostman.com",
)
MAX_DELAY_S = 0.2  # /delay/N really waits N s on postman-echo; a short wait keeps the order visible.
BODY_METHODS = ("post", "put", "patch", "delete")


def _multi_dict(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Repeated keys become lists, as postman-echo answers ``?hi=a&hi=b``."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            out[key] = out[key] + [value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


class PostmanEchoApp:
    """A WSGI app answering like postman-echo.com; ``requests`` keeps (method, path) of each call."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append((request.method, request.full_path.rstrip("?")))
        return self.answer(request)(environ, start_response)

    # -- answers ---------------------------------------------------------------------------
    def answer(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        head, _, rest = path.lstrip("/").partition("/")
        if head == "status" and rest.isdigit():
            return self._json({"status": int(rest)}, int(rest))
        if head == "delay" and rest.isdigit():
            time.sleep(min(int(rest), MAX_DELAY_S))
            return self._json({"delay": rest})
        if head == "headers":
            return self._json({"headers": self._headers(request)})
        if head == "response-headers":
            response = self._json(_multi_dict(self._args(request)))
            for key, value in self._args(request):
                response.headers.add(key, value)
            return response
        if head == "basic-auth":
            return self._basic_auth(request)
        if head == "cookies":
            return self._cookies(request, rest)
        if head == "redirect-to":
            return Response("", 302, headers={"Location": request.args.get("url", "/get")})
        if head == "type" and rest in ("xml", "html"):
            text = '<?xml version="1.0"?><root>echo</root>' if rest == "xml" else "<html><body>echo</body></html>"
            return Response(text, content_type=f"application/{rest}" if rest == "xml" else "text/html")
        if head in BODY_METHODS or request.get_data():
            return self._json(self._with_body(request))
        return self._json(
            {"args": _multi_dict(self._args(request)), "headers": self._headers(request), "url": self._url(request)}
        )

    def _with_body(self, request: Request) -> dict[str, Any]:
        raw = request.get_data(as_text=True)
        form: dict[str, Any] = {}
        files: dict[str, Any] = {}
        parsed: Any = None
        data: Any = raw
        if request.mimetype == "application/x-www-form-urlencoded":
            form = _multi_dict(parse_qsl(raw, keep_blank_values=True))
            data, parsed = "", form
        elif request.mimetype == "multipart/form-data":
            form = _multi_dict(list(request.form.items(multi=True)))
            files = {
                f.filename or key: "data:application/octet-stream;base64," + base64.b64encode(f.read()).decode()
                for key, f in request.files.items(multi=True)
            }
            data, parsed = "", form
        else:
            try:
                parsed = json.loads(raw) if raw else None
                if parsed is not None:
                    data = parsed
            except ValueError:
                parsed = None
        return {
            "args": _multi_dict(self._args(request)),
            "data": data,
            "files": files,
            "form": form,
            "headers": self._headers(request),
            "json": parsed,
            "url": self._url(request),
        }

    def _basic_auth(self, request: Request) -> Response:
        auth = request.authorization
        if auth is not None and auth.type == "basic" and (auth.username, auth.password) == ("postman", "password"):
            return self._json({"authenticated": True})
        return Response("Unauthorized", 401)

    def _cookies(self, request: Request, rest: str) -> Response:
        if rest == "set":
            response = Response("", 302, headers={"Location": "/cookies"})
            for key, value in self._args(request):
                response.set_cookie(key, value)
            return response
        return self._json({"cookies": dict(request.cookies)})

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _args(request: Request) -> list[tuple[str, str]]:
        return [(k, v) for k, v in parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)]

    @staticmethod
    def _headers(request: Request) -> dict[str, str]:
        return {k.lower(): v for k, v in request.headers.items()}

    @staticmethod
    def _url(request: Request) -> str:
        return request.url

    @staticmethod
    def _json(payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload), status, content_type="application/json; charset=utf-8")


@contextmanager
def serve_echo(app: PostmanEchoApp | None = None) -> Iterator[tuple[str, PostmanEchoApp]]:
    """Serve the echo app on 127.0.0.1 (a free port) in a thread; yields (base URL, app)."""
    app = app or PostmanEchoApp()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.RequestHandlerClass.log = lambda *args, **kwargs: None  # type: ignore[method-assign]  # quiet
    thread = threading.Thread(target=server.serve_forever, name="postman-echo", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def rewrite_echo_urls(text: str, base_url: str) -> str:
    """Point every postman-echo origin in a collection's text at ``base_url``.

    Object URLs carry ``host: ["postman-echo", "com"]`` and ``protocol: "https"`` as separate
    components (runner-facts §5: the components, not ``raw``, are what runners send), so those are
    rewritten too, as JSON, before the raw strings are.
    """

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            host = node.get("host")
            joined = ".".join(host) if isinstance(host, list) else host
            if joined in ("postman-echo.com", "echo.getpostman.com"):
                scheme, _, hostport = base_url.partition("://")
                name, _, port = hostport.partition(":")
                node = {**node, "protocol": scheme, "host": name.split("."), "port": port}
            return {k: fix(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix(v) for v in node]
        if isinstance(node, str):
            for origin in ECHO_ORIGINS:
                node = node.replace(origin, base_url)
            for bare in ("postman-echo.com", "echo.getpostman.com"):  # a string URL with no scheme
                if node.startswith(bare):
                    node = base_url + node[len(bare) :]
            return node
        return node

    return json.dumps(fix(json.loads(text.lstrip("\ufeff"))), indent=2)
