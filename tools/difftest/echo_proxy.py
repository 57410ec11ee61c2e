"""A loopback echo server that is also an HTTP(S) proxy, so that collections naming real hosts
(``https://api.github.com/...``) are answered locally and nothing leaves 127.0.0.1.

Both runners get ``HTTP_PROXY``/``HTTPS_PROXY`` pointing here. A plain-HTTP request arrives with an
absolute URI; an HTTPS one as ``CONNECT host:443``, after which the tunnel is answered with a
self-signed certificate made at start (the runners run with ``--insecure``). Every request is
logged whole (method, absolute URL, headers in order, body) and answered like postman-echo.com:
``{args, data, files, form, headers, json, url, method}``, with ``/status/N``, ``/delay/N``,
``/redirect-to?url=``, ``/redirect/N`` and ``/basic-auth`` (postman/password) as there.
Answers carry no date or random part, so two runs of the same collection see the same bytes.
"""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import ipaddress
import json
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["ReceivedRequest", "EchoProxy", "serve_echo_proxy"]

MAX_DELAY_S = 0.05  # /delay/N waits N s on postman-echo; a token wait keeps runs fast
MAX_BODY = 16 << 20


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it reached the server."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for the TLS side of CONNECT tunnels (runners use --insecure)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "difftest echo proxy")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _multi(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    form: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    if not message.is_multipart():
        return {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        payload = payload if isinstance(payload, bytes) else b""
        if filename:
            files.append((str(filename), f"{len(payload)} bytes"))
        else:
            form.append((str(name), payload.decode("utf-8", "replace")))
    return _multi(form), _multi(files)


class _Handler(BaseHTTPRequestHandler):
    server: EchoProxy
    protocol_version = "HTTP/1.1"
    tunnel: str | None = None  # "host:port" inside a CONNECT tunnel

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def version_string(self) -> str:
        return "difftest-echo"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return "Thu, 01 Jan 2026 00:00:00 GMT"  # fixed: answers must not differ between runs

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # any method, custom ones included
            return self._echo
        raise AttributeError(name)

    def do_CONNECT(self) -> None:
        self.send_response(200, "Connection established")
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.tls_context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = tls.makefile("wb")
        self.tunnel = self.path
        self.close_connection = False
        while not self.close_connection:
            self.handle_one_request()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        return self.rfile.read(length) if length else b""

    def _absolute_url(self) -> str:
        if self.path.startswith(("http://", "https://")):
            return self.path
        if self.tunnel:
            host, _, port = self.tunnel.rpartition(":")
            return f"https://{host}{'' if port == '443' else ':' + port}{self.path}"
        return f"http://{self.headers.get('Host', 'localhost')}{self.path}"

    def _echo(self) -> None:
        body = self._read_body()
        url = self._absolute_url()
        self.server.log(ReceivedRequest(self.command, url, tuple(self.headers.items()), body))
        status, payload, extra = self._answer(url, body)
        data = b"" if self.command == "HEAD" else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, url: str, body: bytes) -> tuple[int, Any, list[tuple[str, str]]]:
        parts = urlsplit(url)
        args = _multi(parse_qsl(parts.query, keep_blank_values=True))
        segments = [s for s in parts.path.split("/") if s]
        head, rest = (segments[0] if segments else ""), (segments[1] if len(segments) > 1 else "")
        headers = {k.lower(): v for k, v in self.headers.items()}
        if head == "status" and rest.isdigit() and 100 <= int(rest) <= 599:
            return int(rest), {"status": int(rest)}, []
        if head == "delay" and rest.isdigit():
            time.sleep(min(int(rest), MAX_DELAY_S))
            return 200, {"delay": rest}, []
        if head == "redirect-to" and "url" in args:
            return 302, {}, [("Location", str(args["url"]))]
        if head == "redirect" and rest.isdigit() and int(rest) > 0:
            target = f"/redirect/{int(rest) - 1}" if int(rest) > 1 else "/get"
            return 302, {}, [("Location", target)]
        if head == "basic-auth":
            import base64

            expected = "Basic " + base64.b64encode(b"postman:password").decode()
            ok = headers.get("authorization") == expected
            return (200 if ok else 401), {"authenticated": ok}, []
        content_type = headers.get("content-type", "")
        text = body.decode("utf-8", "replace")
        form: dict[str, Any] = {}
        files: dict[str, Any] = {}
        parsed: Any = None
        data: Any = text
        if content_type.startswith("application/x-www-form-urlencoded"):
            form, data = _multi(parse_qsl(text, keep_blank_values=True)), ""
        elif content_type.startswith("multipart/form-data"):
            form, files = _parse_multipart(content_type, body)
            data = ""
        elif text:
            try:
                parsed = data = json.loads(text)
            except ValueError:
                parsed = None
        return (
            200,
            {
                "args": args,
                "data": data,
                "files": files,
                "form": form,
                "headers": headers,
                "json": parsed,
                "url": url,
                "method": self.command,
            },
            [],
        )


class EchoProxy(ThreadingHTTPServer):
    """The server; ``requests`` is the log, ``mark()``/``since()`` cut it per run."""

    daemon_threads = True

    def __init__(self, tls_context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tls_context = tls_context
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()

    def log(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def mark(self) -> int:
        with self._lock:
            return len(self.requests)

    def since(self, mark: int) -> list[ReceivedRequest]:
        with self._lock:
            return list(self.requests[mark:])


@contextmanager
def serve_echo_proxy() -> Iterator[EchoProxy]:
    """Run the echo proxy on a free loopback port in a thread."""
    with tempfile.TemporaryDirectory(prefix="difftest-tls-") as folder:
        cert, key = _self_signed_certificate(Path(folder))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = EchoProxy(context)
        thread = threading.Thread(target=server.serve_forever, name="difftest-echo-proxy", daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
