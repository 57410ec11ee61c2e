"""The loopback server: the sandbox app on 127.0.0.1, optionally over TLS with a throw-away CA from
trustme (certificate for 127.0.0.1, localhost and every Microsoft host).

Served by cheroot (CherryPy's production WSGI server), not Werkzeug's development server, because
SDK clients need what the development server cannot give: it closes every connection
(``Connection: close``; werkzeug/serving.py disables keep-alive on purpose), writes its own
``Server: Werkzeug/...`` banner and a second ``Date`` next to the app's (Node's ``fetch`` joins the
two and ``Date.parse`` gives NaN). cheroot keeps connections alive, sends the app's status line
and ``Date`` as they are, speaks TLS itself (waitress, the other candidate, has no TLS), and runs
requests on a thread pool, so 50 concurrent clients are served without a thread per connection.
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

from cheroot import server as cheroot_server
from cheroot import wsgi as cheroot_wsgi

from .app import AMBIGUOUS_ENVIRON_KEY
from .hosts import MICROSOFT_HOSTS

__all__ = ["SandboxServer", "SOCKET_ENVIRON_KEY"]

# The connection's socket, for the "reset" fault (set by the gateway below).
SOCKET_ENVIRON_KEY = "o365check.sandbox.socket"


class _HeadersWithoutBanner(list):
    """cheroot appends ``Server: <server_name>`` when the app sent none; Microsoft sends none."""

    def append(self, item: Any) -> None:
        if item[0].lower() != b"server":
            super().append(item)


class _Request(cheroot_server.HTTPRequest):
    def send_headers(self) -> None:
        self.outheaders = _HeadersWithoutBanner(self.outheaders)
        super().send_headers()


class _Connection(cheroot_server.HTTPConnection):
    RequestHandlerClass = _Request


class _Gateway(cheroot_wsgi.Gateway_10):
    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]  # cheroot annotates it -> None
        environ = super().get_environ()
        environ[SOCKET_ENVIRON_KEY] = self.req.conn.socket
        return environ


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
            connection = environ.get(SOCKET_ENVIRON_KEY)
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
    """A running loopback server. ``base_url``, ``ca_path`` (TLS only), ``stop()``; a context manager.

    ``threads`` is the size of the worker pool: requests beyond it wait in cheroot's queue, idle
    keep-alive connections hold no worker. ``ca`` (a ``trustme.CA``) lets several servers share
    one CA, so one trusted CA file serves a client talking to all of them; by default each
    server makes its own.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        *,
        port: int = 0,
        tls: bool = False,
        ambiguous_delay: float = 5.0,
        threads: int = 16,
        ca: Any = None,
    ) -> None:
        self.ca_path: str | None = None
        # certifi's roots plus the sandbox CA: for REQUESTS_CA_BUNDLE / SSL_CERT_FILE (client_env.py).
        self.ca_bundle_path: str | None = None
        self._key_path: str | None = None
        self._server = cheroot_wsgi.Server(
            ("127.0.0.1", port),
            _LoseAnswers(app, ambiguous_delay),
            numthreads=threads,
            request_queue_size=128,  # 50 clients connecting at once must not overflow the backlog
            timeout=30,
            shutdown_timeout=2,
        )
        self._server.ConnectionClass = _Connection
        self._server.gateway = _Gateway
        if tls:
            self._server.ssl_adapter = self._make_tls_adapter(ca)
        try:
            self._server.prepare()  # binds now, so a busy port fails here and base_url is known
        except BaseException:
            self._remove_files()
            raise
        self.port: int = self._server.bind_addr[1]
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve, name=f"sandbox:{self.port}", daemon=True)
        self._thread.start()

    def _make_tls_adapter(self, ca: Any) -> Any:
        import trustme
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        ca = ca or trustme.CA(organization_name="o365check sandbox")
        certificate = ca.issue_cert("127.0.0.1", "localhost", *sorted(MICROSOFT_HOSTS))
        self.ca_path = _write_temp("o365check-sandbox-ca-", ca.cert_pem.bytes())
        self.ca_bundle_path = _write_temp("o365check-sandbox-ca-bundle-", _public_roots() + ca.cert_pem.bytes())
        self._key_path = _write_temp("o365check-sandbox-server-", certificate.private_key_and_cert_chain_pem.bytes())
        return BuiltinSSLAdapter(self._key_path, self._key_path)

    def stop(self) -> None:
        """Stop serving, close the socket and remove the CA file."""
        self._server.stop()
        self._thread.join(timeout=5)
        self._remove_files()

    def _remove_files(self) -> None:
        for path in (self.ca_path, self.ca_bundle_path, self._key_path):
            if path and os.path.exists(path):
                os.remove(path)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def _write_temp(prefix: str, data: bytes) -> str:
    handle, path = tempfile.mkstemp(prefix=prefix, suffix=".pem")  # mode 0600
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    return path


def _public_roots() -> bytes:
    from certifi import where  # the roots requests itself trusts

    with open(where(), "rb") as file:
        data = file.read()
    return data if data.endswith(b"\n") else data + b"\n"
