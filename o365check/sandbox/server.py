"""The loopback server: the sandbox app on 127.0.0.1 in a background thread, optionally over TLS
with a throw-away CA from trustme (certificate for 127.0.0.1, localhost and every Microsoft host).
"""

from __future__ import annotations

import os
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import AMBIGUOUS_ENVIRON_KEY
from .hosts import MICROSOFT_HOSTS

__all__ = ["SandboxServer"]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the sandbox is a library, not a console program."""

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class _LoseAnswers:
    """Middleware: after an accepted sendMail marked ambiguous, drop or delay the answer."""

    def __init__(self, app: Callable[..., Iterable[bytes]], delay: float) -> None:
        self.app = app
        self.delay = delay

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: list[Any] = []
        body = list(self.app(environ, lambda *args: captured.append(args)))
        kind = environ.get(AMBIGUOUS_ENVIRON_KEY)
        if kind == "reset":
            connection = environ.get("werkzeug.socket")
            if connection is not None:
                # Linger 0 makes close() send RST: the client sees "connection reset", no response.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise ConnectionResetError("sandbox fault: connection reset after the message was accepted")
        if kind == "timeout":
            time.sleep(self.delay)  # longer than the client's read timeout
        start_response(*captured[0])
        return body


class SandboxServer:
    """A running loopback server. ``base_url``, ``ca_path`` (TLS only), ``stop()``; a context manager."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], *, port: int = 0, tls: bool = False, ambiguous_delay: float = 5.0
    ) -> None:
        self.ca_path: str | None = None
        ssl_context = None
        if tls:
            ssl_context = self._make_tls_context()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1",
            port,
            _LoseAnswers(app, ambiguous_delay),
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=ssl_context,
        )
        self.port: int = self._server.server_port
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox:{self.port}", kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def _make_tls_context(self) -> Any:
        import ssl

        import trustme

        ca = trustme.CA(organization_name="o365check sandbox")
        certificate = ca.issue_cert("127.0.0.1", "localhost", *sorted(MICROSOFT_HOSTS))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        handle, path = tempfile.mkstemp(prefix="o365check-sandbox-ca-", suffix=".pem")
        with os.fdopen(handle, "wb") as file:
            file.write(ca.cert_pem.bytes())
        self.ca_path = path
        return context

    def stop(self) -> None:
        """Stop serving, close the socket and remove the CA file."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self.ca_path and os.path.exists(self.ca_path):
            os.remove(self.ca_path)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
