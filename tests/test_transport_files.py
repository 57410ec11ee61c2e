"""Files a collection may read, and which scripts count as reading a secret."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from o365check.postman.files import FileReadRefused, read_body_file
from o365check.postman.secret_routing import script_may_read_secret


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "body.bin").write_bytes(b"inside")
    (tmp_path / "outside.env").write_text("AZURE_CLIENT_SECRET=x")
    return folder


def test_a_file_under_the_working_dir_is_read(work: Path) -> None:
    assert read_body_file("body.bin", work) == b"inside"
    assert read_body_file(str(work / "body.bin"), work) == b"inside"


@pytest.mark.parametrize("src", ["../outside.env", "/proc/self/environ", "/etc/hostname"])
def test_a_file_outside_is_refused_with_the_way_to_widen_it(work: Path, src: str) -> None:
    with pytest.raises(FileReadRefused, match="outside the working directory") as caught:
        read_body_file(src, work)
    assert "--working-dir" in str(caught.value) and "--insecure-file-read" in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_symlink_out_is_refused_and_says_where_it_leads(work: Path) -> None:
    (work / "link").symlink_to(work.parent / "outside.env")
    with pytest.raises(FileReadRefused, match="leads to"):
        read_body_file("link", work)
    assert read_body_file("link", work, insecure=True) == b"AZURE_CLIENT_SECRET=x"


def test_devices_fifos_and_directories_are_refused_without_hanging(work: Path) -> None:
    os.mkfifo(work / "pipe")
    (work / "zero").symlink_to("/dev/zero")
    started = time.monotonic()
    for src in ("pipe", "zero", "."):
        with pytest.raises((FileReadRefused, IsADirectoryError), match="regular file|Is a directory"):
            read_body_file(src, work, insecure=True)
    assert time.monotonic() - started < 2


def test_the_size_limit_holds_even_for_files_that_report_no_size(work: Path) -> None:
    (work / "big.bin").write_bytes(b"x" * 2048)
    with pytest.raises(FileReadRefused, match="larger than"):
        read_body_file("big.bin", work, limit=1024)
    data = read_body_file("/proc/self/status", work, insecure=True, limit=1 << 20)  # st_size 0, real content
    assert data.startswith(b"Name:")


def test_a_missing_file_is_an_os_error_for_the_caller(work: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_body_file("nope.bin", work)


@pytest.mark.parametrize(
    "source",
    [
        'pm.environment.get("client_secret")',
        "pm.variables.get('CLIENT_SECRET')",
        'pm.environment.get("client_" + "secret")',
        "pm.environment.toObject()",
        'pm.variables.replaceIn("{{x}}")',
        'environment["x"]',
        "eval(atob('...'))",
        "const all = pm.environment.values",
        "pm.environment.get(`client_secret`)",
    ],
)
def test_scripts_that_may_read_a_secret(source: str) -> None:
    assert script_may_read_secret(source, {"client_secret"}) == "client_secret"


@pytest.mark.parametrize(
    "source",
    [
        'pm.test("ok", () => pm.response.to.have.status(200));',
        'pm.environment.set("access_token", pm.response.json().access_token);',
        'const url = pm.environment.get("graph_base") + "/v1.0";',
        'pm.collectionVariables.unset("x"); pm.globals.has("y");',
    ],
)
def test_scripts_that_provably_read_no_secret(source: str) -> None:
    assert script_may_read_secret(source, {"client_secret"}) is None
