"""Hostile collections against a listener on a non-loopback address: zero secret bytes arrive.

All cases (tests/hostile_cases.py) run in ONE subprocess inside a network namespace this test
makes (``unshare -n``; tests/hostile_netns.py gives its ``lo`` 192.0.2.2 and 2001:db8::2, which
exist nowhere else). Every host name resolves to the listener there, like an attacker's DNS.
Then, per case: nothing the listener received carries the canary in any encoding (detected here
independently of o365check's own masker), no output or report shows it, and every refusal is
exit 2 with a message naming the variable, never its value.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote_to_bytes

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostile_cases import CANARY, CONTROL, Case, all_cases

HERE = Path(__file__).parent
CASES = {case.name: case for case in all_cases()}


def _namespace_problem() -> str:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip (util-linux, iproute2) not installed"
    try:
        done = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -n failed: {exc}"
    return "" if done.returncode == 0 else f"unshare -n is not permitted here: {done.stderr.decode().strip()}"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    problem = _namespace_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the hostile-collection suite must run in CI: {problem}")
        pytest.skip(problem)
    out = tmp_path_factory.mktemp("hostile") / "results.json"
    # The canary is in the process environment from the start, as a real AZURE_CLIENT_SECRET would
    # be, so /proc/self/environ carries it.
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["AZURE_CLIENT_SECRET"] = CANARY
    done = subprocess.run(
        ["unshare", "-n", sys.executable, str(HERE / "hostile_netns.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {r["name"]: r for r in json.loads(out.read_text())}


def _needles(secret: str, *, transformed: bool = True) -> list[bytes]:
    """The secret as the masker knows it (raw, URL, JSON, Base64 at any alignment) and, with
    ``transformed``, as the hostile scripts mangle it (separators, reversed, hex, char codes)."""
    raw = secret.encode()
    needles = {raw, quote(secret, safe="").encode(), quote_plus(secret).encode(), json.dumps(secret)[1:-1].encode()}
    for lead in range(3):  # Base64 of anything containing the secret, at each alignment
        encoded = base64.b64encode(b"\0" * lead + raw)
        core = encoded[(lead * 8 + 5) // 6 if lead else 0 : (len(raw) + lead) // 3 * 4]
        needles |= {core, core.translate(bytes.maketrans(b"+/", b"-_"))}
    if transformed:
        alnum = re.sub(rb"[^A-Za-z0-9]", b"", raw)
        needles |= {alnum, alnum[::-1], raw.hex().encode()[:24], ",".join(str(b) for b in raw[:10]).encode()}
    return [n.lower() for n in needles if len(n) >= 8]


NEEDLES = _needles(CANARY)
MASKER_NEEDLES = _needles(CANARY, transformed=False)


def carries(data: bytes, needles: list[bytes] = NEEDLES) -> bool:
    """True when ``data`` holds the secret in a form we can think of (independent of o365check)."""
    views = [data, unquote_to_bytes(data), unquote_to_bytes(data.replace(b"+", b" "))]
    if needles is NEEDLES:
        views.append(re.sub(rb"[^A-Za-z0-9]", b"", views[1]))
    for run in re.findall(rb"[A-Za-z0-9+/_=-]{8,}", data):
        for alt in (b"+/", b"-_"):
            try:
                views.append(base64.b64decode(run.rstrip(b"=") + b"=" * (-len(run.rstrip(b"=")) % 4), altchars=alt))
            except (binascii.Error, ValueError):
                pass
    return any(needle in view.lower() for view in views for needle in needles)


def test_the_detector_finds_every_encoding_it_claims() -> None:
    secret = CANARY.encode()
    for sample in (
        secret,
        quote(CANARY, safe="").encode(),
        base64.b64encode(b"user:" + secret),
        base64.urlsafe_b64encode(b"xy" + secret + b"z"),
        b".".join(bytes([c]) for c in secret),
        secret[::-1],
        json.dumps({"s": CANARY}).encode(),
    ):
        assert carries(b"GET /?q=" + sample + b" HTTP/1.1\r\n\r\n"), sample
    assert not carries(b"GET /collect?v=" + CONTROL.encode() + b" HTTP/1.1\r\n\r\n")


def test_the_suite_is_large_enough() -> None:
    hostile = [c for c in CASES.values() if not c.control]
    assert len(hostile) >= 60
    groups = {name.split("-")[0] for name in CASES}
    assert {"script", "redirect", "send", "oauth2", "parser", "late", "file", "proxy", "record", "control"} <= groups


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_secret_reaches_the_listener(name: str, results: dict[str, dict]) -> None:
    case: Case = CASES[name]
    result = results[name]
    received = [(port, base64.b64decode(data)) for port, data in result["received"]]
    leaked = [port for port, data in received if carries(data)]
    assert leaked == [], f"{name}: the secret reached the listener on port(s) {leaked}"
    shown = result["stdout"] + result["stderr"] + result["report"]
    assert "CRASH" not in result["stderr"] and "Traceback" not in shown, shown[-2000:]
    refusals = "\n".join(re.findall(r"refused to [^\n\"]*", shown))  # the refusal messages themselves
    assert not carries(refusals.encode()), f"{name}: a refusal message shows the secret"
    # Reports mask what the masker knows (raw, URL, JSON, Base64); a script's own mangling of a
    # secret (reversed, one character at a time) is stopped on the wire, not recognised in text.
    assert not carries(shown.encode(), MASKER_NEEDLES), f"{name}: the output shows the secret"
    if "record" in case.options:
        # Refused before the cassette layer: no request to the listener is ever recorded. (What
        # the recorder scrubs from allowed requests is recording.py's business, not tested here.)
        assert result["cassette"], f"{name}: nothing was recorded at all"
        assert re.search(r"uri: https?://(192\.0\.2\.2|attacker)", result["cassette"]) is None, result["cassette"]
    if case.control:
        assert any(CONTROL.encode() in data for _, data in received), f"{name}: the listener got nothing"
        return
    if case.expect == "refused":
        if case.unsupported and case.unsupported in shown:
            return  # the script failed before it could send anything (checked above: nothing arrived)
        assert result["exit"] == 2, f"{name}: exit {result['exit']}\n{shown[-1500:]}"
        assert "refused to" in shown, shown[-1500:]
        if not name.startswith("file-") or name == "file-insecure-read-environ":
            assert f"secret variable '{case.variable}" in shown, shown[-1500:]
