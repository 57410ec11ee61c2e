"""`o365check web`: the command's own checks (the page itself is driven in a browser in test_browser.py)."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from o365check.cli import main
from o365check.web import PAGE, voila_command


def test_voila_serves_the_page_on_loopback_without_sources_or_tracebacks():
    command = voila_command(8866)
    assert str(PAGE) in command and PAGE.is_file()
    for option in (
        "--Voila.ip=127.0.0.1",
        "--port=8866",
        "--no-browser",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
    ):
        assert option in command


@pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["web", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.output and "Traceback" not in result.output


def test_help_names_the_port_and_what_the_page_is():
    result = CliRunner().invoke(main, ["web", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "no code" in result.output
