"""Issue 9's smaller items that are about limits and output: --timeout bounds scripts and
--delay-request, --max-wait is one budget for the whole doctor, a 429 at discovery is waited out,
an unanswered sendMail is never "nothing was sent", scripts cannot drive the terminal, --record
never replaces what is not a regular file."""

from __future__ import annotations

import json
import os
import time

import pytest
from click.testing import CliRunner

from o365check.cli import main
from o365check.doctor import run_doctor
from o365check.http import build_session
from o365check.sandbox import Faults, Sandbox
from o365check.settings import Settings

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])


class FakeClock:
    def __init__(self) -> None:
        self.now, self.sleeps = 1_700_000_000.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _collection(tmp_path, items):
    path = tmp_path / "c.postman_collection.json"
    path.write_text(json.dumps({"info": {"name": "limits"}, "item": items}))
    return str(path)


def _item(name, prerequest=""):
    item = {"name": name, "request": {"method": "GET", "url": "http://127.0.0.1:9/x"}}
    if prerequest:
        item["event"] = [{"listen": "prerequest", "script": {"exec": [prerequest]}}]
    return item


def _run(*args):
    return CliRunner().invoke(main, ["run", *args], env={"NO_COLOR": "1"}, catch_exceptions=False)


def test_timeout_stops_a_long_delay_request(tmp_path):
    path = _collection(tmp_path, [_item("one"), _item("two"), _item("three")])
    started = time.monotonic()
    result = _run(path, "--delay-request", "60000", "--timeout", "400")
    assert time.monotonic() - started < 10
    assert "Run stopped: the run took longer than --timeout 400 ms" in result.stdout


def test_timeout_stops_an_endless_script(tmp_path):
    path = _collection(tmp_path, [_item("endless", "while (true) {}"), _item("next")])
    started = time.monotonic()
    result = _run(path, "--timeout", "500")
    assert time.monotonic() - started < 15
    assert result.exit_code != 0
    assert "Run stopped" in result.stdout or "timed out" in result.stdout.lower()


def test_scripts_cannot_send_terminal_escapes(tmp_path):
    evil = "console.log('a\\u001b]0;pwned\\u0007b\\u001b[2Jc\\u202ed\\u009b');"
    path = _collection(tmp_path, [_item("evil", evil)])
    result = _run(path)
    for raw in ("\x1b]0;", "\x07", "\x1b[2J", "\u202e", "\x9b"):
        assert raw not in result.stdout
    assert "\\x1b]0;pwned\\x07b\\x1b[2Jc\\u202ed\\x9b" in result.stdout  # shown, not acted on


def test_record_refuses_a_fifo_and_leaves_it(tmp_path):
    fifo = tmp_path / "cassette.yaml"
    os.mkfifo(fifo)
    result = _run(_collection(tmp_path, [_item("one")]), "--record", str(fifo))
    assert result.exit_code == 2 and "FIFO" in result.stdout + result.stderr
    assert fifo.exists() and not fifo.is_file()


def test_record_replaces_a_symlinked_cassette_in_place(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    _run(_collection(tmp_path, [_item("one")]), "--record", str(link))
    assert link.is_symlink() and "interactions" in real.read_text()


def test_discovery_429_is_waited_out_and_max_wait_is_one_budget():
    clock = FakeClock()
    box = Sandbox(
        "ok",
        faults=Faults(host_rates={"login.microsoftonline.com": 1.0}, statuses=(429,), retry_after=3, seed=3),
        clock=clock,
    )
    settings = Settings._build(dict(box.credentials), {})
    steps = list(run_doctor(settings, build_session(sandbox=box), sandbox=box, max_wait=7, sleep=clock.sleep))
    discovery = next(s for s in steps if s.name == "discovery")
    # Throttled for good: discovery waits 3 + 3 s, then the budget (7 s in all) is spent.
    assert discovery.status == "failed"
    assert sum(clock.sleeps) <= 7 and clock.sleeps == [3, 3]


def test_discovery_429_then_success():
    clock = FakeClock()
    box = Sandbox(
        "ok",
        faults=Faults(host_rates={"login.microsoftonline.com": 1.0}, statuses=(429,), retry_after=1, seed=3),
        clock=clock,
    )

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        box.app.injector.faults = Faults()

    settings = Settings._build(dict(box.credentials), {})
    steps = list(run_doctor(settings, build_session(sandbox=box), sandbox=box, max_wait=10, sleep=sleep))
    assert next(s for s in steps if s.name == "discovery").status == "passed"
    assert clock.sleeps == [1]


@pytest.mark.parametrize("kind", ["reset", "timeout"])
def test_unanswered_send_mail_in_a_run_is_ambiguous_not_nothing_sent(tmp_path, kind, monkeypatch):
    from o365check.postman import command

    original = command.Sandbox if hasattr(command, "Sandbox") else None
    assert original is None  # the sandbox is built inside _sandbox_environment
    import o365check.sandbox as sandbox_module

    real = sandbox_module.Sandbox

    def faulty(scenario, **kwargs):
        return real(scenario, faults=Faults(ambiguous_send=kind), **kwargs)

    monkeypatch.setattr(sandbox_module, "Sandbox", faulty)
    guide = os.path.join(os.path.dirname(__file__), "..", "collections", "office365-sendmail.postman_collection.json")
    result = _run(guide, "--sandbox", "--timeout-request", "3000")
    assert result.exit_code != 0
    assert "Nothing was sent" not in result.stdout
    assert "may have been sent" in result.stdout


def test_sandbox_serve_environment_out_is_owner_only(tmp_path):
    from tests.newman_support import serve_sandbox

    target = tmp_path / "sandbox.postman_environment.json"
    with serve_sandbox("ok", target):
        assert oct(os.stat(target).st_mode & 0o777) == "0o600"
        assert json.loads(target.read_text())["values"]
