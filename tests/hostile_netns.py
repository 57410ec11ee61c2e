"""Run every hostile collection inside a private network namespace; write what the listener got.

Started by tests/test_hostile_collections.py as ``unshare -n python tests/hostile_netns.py OUT``.
Inside the namespace only ``lo`` exists; this script gives it 192.0.2.2 and 2001:db8::2 (TEST-NET
addresses that exist nowhere else) and listens there: plain HTTP on :80 (v4 and v6), TLS with a
certificate nobody trusts on :443 and :9443, and a recording HTTP proxy on :8080. A redirector on
127.0.0.1:8081 (loopback: allowed to receive secrets) bounces requests to the listener. Every name
that is not an IP literal resolves to 192.0.2.2 (an attacker controlling DNS), so
login.microsoftonline.com is the listener too and only TLS verification stands in the way.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).parent))

from hostile_cases import CANARY, LISTENER, all_cases, environment_document

RECEIVED: list[tuple[int, bytes]] = []
LOCK = threading.Lock()


def _read_request(conn: socket.socket) -> bytes:
    conn.settimeout(2)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    except (OSError, ValueError):
        return data


def _answer(conn: socket.socket, status: str = "200 OK", headers: str = "", body: bytes = b"ok") -> None:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n{headers}\r\n"
    try:
        conn.sendall(head.encode() + body)
    except OSError:
        pass


class Listener(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple, port_label: int, tls: ssl.SSLContext | None = None, family=socket.AF_INET):
        self.address_family = family
        self.port_label, self.tls = port_label, tls
        super().__init__(address, Handler)


class Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn = self.request
        server: Listener = self.server  # type: ignore[assignment]
        if server.tls is not None:
            try:
                conn.settimeout(2)
                conn = server.tls.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                return  # the client refused our certificate: nothing was sent
        data = _read_request(conn)
        with LOCK:
            RECEIVED.append((server.port_label, data))
        if data.startswith(b"CONNECT"):
            _answer(conn, "403 Forbidden", body=b"no tunnels")
        else:
            _answer(conn)


class Redirector(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 8081), RedirectHandler)


class RedirectHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data = _read_request(self.request)
        target = data.split(b" ", 2)[1].decode("latin-1") if data.count(b" ") >= 2 else "/"
        parts = urlsplit(target)
        segments = parts.path.strip("/").split("/")
        if len(segments) == 2 and segments[0] == "r":
            to = parse_qs(parts.query).get("to", [f"http://{LISTENER}/"])[0]
            _answer(self.request, f"{segments[1]} Moved", f"Location: {to}\r\n")
        elif len(segments) == 2 and segments[0] == "echo":
            _answer(self.request, f"{segments[1]} Moved", f"Location: http://{LISTENER}/collect?{parts.query}\r\n")
        elif parts.path.endswith("/token"):
            _answer(self.request, body=b'{"access_token":"x","token_type":"Bearer","expires_in":3600}')
        else:
            _answer(self.request)


def _tls_context(tmp: Path) -> ssl.SSLContext:
    import trustme

    ca = trustme.CA()  # never handed to the client: its certificate is untrusted on purpose
    cert = ca.issue_cert(LISTENER, "attacker", "login.microsoftonline.com", "2001:db8::2")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def _resolve_everything_to_the_listener() -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name is None:
            return real(host, port, family, type, proto, flags)
        try:  # IP literals in every spelling the C library accepts (decimal, octal, hex, short)
            return real(name, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            pass
        if name == "localhost":
            return real("127.0.0.1", port, socket.AF_INET, type, proto, flags)
        return real(LISTENER, port, socket.AF_INET, type, proto, flags)

    socket.getaddrinfo = getaddrinfo


def _setup_files(folder: Path, files: dict[str, str]) -> None:
    for relative, spec in files.items():
        path = (folder / relative).resolve() if ".." in relative else folder / relative
        if path.exists() or path.is_symlink():
            path.unlink()
        kind, _, value = spec.partition(":")
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "symlink":
            os.symlink(value, path)
        else:
            path.write_text(value)


def main(out: str) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{LISTENER}/32", "dev", "lo"], check=True)
    subprocess.run(["ip", "-6", "addr", "add", "2001:db8::2/128", "dev", "lo", "nodad"], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    tls = _tls_context(tmp)
    servers = [
        Listener((LISTENER, 80), 80),
        Listener((LISTENER, 8080), 8080),
        Listener((LISTENER, 443), 443, tls),
        Listener((LISTENER, 9443), 9443, tls),
        Listener(("2001:db8::2", 80), 6080, family=socket.AF_INET6),
        Redirector(),
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    _resolve_everything_to_the_listener()
    os.environ["AZURE_CLIENT_SECRET"] = CANARY  # what /proc/self/environ would carry out

    from o365check.postman.command import RunOptions, run_collection_cli

    results = []
    base_env = dict(os.environ)
    for number, case in enumerate(all_cases()):
        folder = tmp / f"case{number}" / "work"
        folder.mkdir(parents=True)
        collection = folder / "hostile.postman_collection.json"
        collection.write_text(json.dumps(case.collection))
        environment = folder / "hostile.postman_environment.json"
        environment.write_text(json.dumps(environment_document(case)))
        _setup_files(folder, case.files)
        report = folder.parent / "report.json"
        os.environ.clear()
        os.environ.update({k: v for k, v in base_env.items() if "proxy" not in k.lower()})
        os.environ.update(case.env)
        with LOCK:
            RECEIVED.clear()
        stdout, stderr = io.StringIO(), io.StringIO()
        options = RunOptions(
            str(collection),
            environment=str(environment),
            reporters=["cli", "json"],
            reporter_json_export=str(report),
            timeout_request=3000,
            no_color=True,
            **{
                k: v.replace("{folder}", str(folder.parent)) if isinstance(v, str) else v
                for k, v in case.options.items()
            },
        )
        try:
            code = run_collection_cli(options, stdout, stderr)
        except BaseException as exc:  # a crash is a finding: recorded, not hidden
            code = -1
            stderr.write(f"CRASH {type(exc).__name__}: {exc}")
        finally:
            os.environ.clear()
            os.environ.update(base_env)
        with LOCK:
            received = [(port, base64.b64encode(data).decode()) for port, data in RECEIVED]
        results.append(
            {
                "name": case.name,
                "exit": code,
                "stdout": stdout.getvalue(),
                "stderr": stderr.getvalue(),
                "report": report.read_text(errors="replace") if report.exists() else "",
                "cassette": cassette.read_text(errors="replace")
                if (cassette := folder.parent / "cassette.yaml").exists()
                else "",
                "received": received,
            }
        )
    Path(out).write_text(json.dumps(results))
    for server in servers:
        server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
