"""Test doubles for the Postman runner tests: a WSGI echo app mounted into a requests Session.

``mount_echo(session)`` routes every http/https URL of the session to ``EchoApp`` in-process, so
collections that address postman-echo.com (Newman's fixtures) or any host run offline.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response


class EchoApp:
    """Echoes the request as JSON (postman-echo style); ``/status/<n>`` answers n; ``/token`` issues tokens."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.token_calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        form = request.form.to_dict() if request.mimetype == "multipart/form-data" else None  # before the body is read
        body = request.get_data(as_text=True)
        seen = {
            "method": request.method,
            "url": request.url,
            "host": request.host,
            "path": request.path,
            "args": dict(parse_qsl(request.query_string.decode(), keep_blank_values=True)),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": body,
            "form": form
            if form is not None
            else dict(parse_qsl(body))
            if request.mimetype == "application/x-www-form-urlencoded"
            else {},
        }
        self.requests.append(seen)
        if request.path.endswith("/token"):
            self.token_calls += 1
            auth = request.headers.get("Authorization", "")
            secret = seen["form"].get("client_secret") or (
                base64.b64decode(auth[6:]).decode().split(":", 1)[1] if auth.startswith("Basic ") else ""
            )
            if secret != "right-secret":
                payload = {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                }
                return Response(json.dumps(payload), 401, content_type="application/json")(environ, start_response)
            payload = {"token_type": "Bearer", "expires_in": 3599, "access_token": f"tok-{self.token_calls}-abcdefgh"}
            return Response(json.dumps(payload), 200, content_type="application/json")(environ, start_response)
        if request.path == "/basic-auth":  # postman-echo: 200 only with postman:password
            ok = request.headers.get("Authorization") == "Basic " + base64.b64encode(b"postman:password").decode()
            return Response(json.dumps({"authenticated": ok}), 200 if ok else 401, content_type="application/json")(
                environ, start_response
            )
        if request.path.startswith("/status/"):
            return Response("{}", int(request.path.rsplit("/", 1)[1]), content_type="application/json")(
                environ, start_response
            )
        return Response(json.dumps(seen), 200, content_type="application/json")(environ, start_response)


class WsgiAdapter(requests.adapters.BaseAdapter):
    """A requests transport adapter that calls a WSGI app in-process."""

    def __init__(self, app: Any):
        super().__init__()
        self.client = Client(app)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        answer = self.client.open(
            path=parts.path or "/",
            query_string=parts.query,
            method=request.method,
            headers=list(request.headers.items()),
            data=request.body or b"",
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.split(" ", 1)[1] if " " in answer.status else ""
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response._content = answer.get_data()
        response.url, response.request = request.url, request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def mount_echo(session: requests.Session, app: EchoApp | None = None) -> EchoApp:
    app = app or EchoApp()
    adapter = WsgiAdapter(app)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return app


def echo_session() -> tuple[requests.Session, EchoApp]:
    session = requests.Session()
    return session, mount_echo(session)
