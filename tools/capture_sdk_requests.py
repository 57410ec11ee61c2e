"""Capture the exact requests real SDKs send to the sandbox, as test fixtures.

    python tools/capture_sdk_requests.py      # writes tests/fixtures/sdk/<client>.json

Serves a sandbox over TLS with a recording WSGI layer in front, runs the recipes of
docs/sdk-recipes.md (msgraph-sdk in Python; the Graph JavaScript client when Node and
.ci/sdk/node_modules are there) and writes every request: method, path, headers, body. Secrets
are replaced (Authorization, client_secret, client_assertion) and per-request IDs kept as sent.
tests/test_sandbox_sendmail_bodies.py sends the captured sendMail requests again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from sdk_recipes import NODE_MODULES, python_recipe, read_recipes  # noqa: E402

from o365check.sandbox import Sandbox  # noqa: E402
from o365check.sandbox.client_env import client_environment  # noqa: E402
from o365check.sandbox.server import SandboxServer  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "sdk"
SECRET_FIELDS = re.compile(r"(client_secret|client_assertion)=[^&]*")


class Recorder:
    """WSGI middleware that keeps each request as the app saw it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if "authorization" in headers:
            headers["authorization"] = headers["authorization"].split(" ", 1)[0] + " <token>"
        path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        with self.lock:
            self.requests.append(
                {
                    "method": environ["REQUEST_METHOD"],
                    "path": path,
                    "headers": dict(sorted(headers.items())),
                    "body": SECRET_FIELDS.sub(r"\1=<redacted>", body.decode("utf-8", "replace")),
                }
            )
        return self.app(environ, start_response)


def capture(client: str, command: list[str], extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    box = Sandbox("ok")
    recorder = Recorder(box.app)
    server = SandboxServer(recorder, tls=True)
    try:
        variables = client_environment(
            base_url=server.base_url,
            scenario="ok",
            credentials=box.credentials,
            ca_path=server.ca_path,
            ca_bundle_path=server.ca_bundle_path,
        )
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **dict(variables)}
        done = subprocess.run(command, env={**env, **(extra_env or {})}, capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or len(box.outbox) != 1:
            raise SystemExit(f"{client} did not send: {done.stdout}{done.stderr}")
    finally:
        server.stop()
    # The port differs per run: keep paths, drop the host header's port.
    for request in recorder.requests:
        request["headers"].pop("host", None)
    return {"client": client, "captured_by": "tools/capture_sdk_requests.py", "requests": recorder.requests}


def main() -> int:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    recipes = read_recipes()
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "msgraph_sdk.py"
        script.write_text(python_recipe("msgraph-sdk", recipes))
        results = {"msgraph-sdk-python": capture("msgraph-sdk-python", [sys.executable, str(script)])}
        if shutil.which("node") and (NODE_MODULES / "@microsoft").is_dir():
            script = Path(scratch) / "graph.js"
            script.write_text(recipes["graph-js"][1])
            results["graph-js"] = capture("graph-js", ["node", str(script)], {"NODE_PATH": str(NODE_MODULES)})
        else:
            print("Node or .ci/sdk/node_modules missing: the Graph JavaScript client was not captured", file=sys.stderr)
    for name, document in results.items():
        path = FIXTURES / f"{name}.json"
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        written.append(str(path.relative_to(ROOT)))
    print("wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
