"""Fuzzing every file option and the CLI options (issue 9 item 5): no traceback, no hang, bounded
memory, and for an unusable file a clear message naming it with exit code 2.

Two parts, both run in-process through click's CliRunner (fast enough for 2,000+ inputs):

* a corpus of hand-made bad files, generated here (nothing third-party is stored): empty, binary,
  invalid UTF-8, lone surrogates, BOMs, deep nesting, huge values, wrong types everywhere,
  truncated JSON/YAML/CSV/.env, directories, FIFOs, a symlink to /dev/zero, /dev/null, broken
  symlinks; outputs to a directory, a FIFO, /dev/full, a missing directory and a full disk;
* hypothesis: random JSON shaped like collections, environments and cassettes, random CSV, .env
  and option values.

Bounds: every input finishes within ``HANG_SECONDS`` (SIGALRM), and the process's peak resident
set grows by at most ``MEMORY_BOUND_MIB`` over the whole corpus (a /dev/zero symlink or a 200 MB
CSV read whole would blow it).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from o365check.cli import main

HANG_SECONDS = 10
TIMES: dict = {}
MEMORY_BOUND_MIB = 256
EXIT_CODES = (0, 1, 2, 3)

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

GOOD_COLLECTION = {
    "info": {"name": "fuzz", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "item": [{"name": "one", "request": {"method": "GET", "url": "http://127.0.0.1:9/x"}}],
}


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def alarm(*_: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def invoke(args: list[str]) -> tuple[int, str]:
    """Exit code and all output; fails the test on a traceback (any exception but SystemExit) or a hang."""
    with time_limit(HANG_SECONDS):
        result = CliRunner().invoke(main, args, env={"NO_COLOR": "1"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__}: {result.exception}") from result.exception
    output = result.stdout + result.stderr
    assert "Traceback" not in output, (args, output)
    assert result.exit_code in EXIT_CODES, (args, result.exit_code, output)
    return result.exit_code, output


# ----------------------------------------------------------------------------- the corpus
def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def bad_contents() -> dict[str, bytes]:
    """Contents that no file option can use as it is (each name says what is wrong)."""
    huge = b'{"info": {"name": "' + b"x" * (2 * 1024 * 1024) + b'"}, "item": []}'
    return {
        "empty": b"",
        "whitespace": b"  \n\t\n",
        "binary": bytes(range(256)) * 4,
        "invalid-utf8": b'{"info": {"name": "\xff\xfe\xfa"}, "item": []}',
        "lone-surrogate": b'{"info": {"name": "\xed\xa0\x80"}, "item": []}',
        "json-escaped-surrogate": b'{"info": {"name": "\\ud800"}, "item": [], "values": [{"key": "\\udfff"}]}',
        "utf16-odd-length": "\ufeff{}".encode("utf-16-le")[:-1],
        "bom-then-junk": b"\xef\xbb\xbf\x00\x01\x02",
        "truncated-json": b'{"info": {"name": "x"}, "item": [',
        "deep-json": _deep(200_000).encode(),
        "deep-objects": (b'{"a":' * 50_000) + b"1" + (b"}" * 50_000),
        "huge-value": huge,
        "nul-bytes": b'{"info"\x00: 1}',
        "json-number": b"42",
        "json-string": b'"collection"',
        "json-null": b"null",
        "json-list-of-junk": b'[1, null, "x", [], {}]',
        "wrong-types": json.dumps(
            {
                "info": [],
                "item": {"name": 5},
                "variable": "x",
                "auth": [1],
                "event": 7,
                "values": {"key": []},
                "interactions": "none",
            }
        ).encode(),
        "wrong-types-inside": json.dumps(
            {
                "info": {"name": ["n"], "schema": 3},
                "item": [
                    {"name": {}, "request": {"url": {"host": 5, "path": {}, "query": "q"}, "header": 7, "body": []}},
                    {"name": "f", "item": [{"request": 3, "event": [{"listen": "test", "script": {"exec": 5}}]}]},
                    {"request": {"method": 9, "auth": {"type": 4}}},
                ],
                "values": [{"key": 1, "value": {"nested": [1]}}, "x", None],
            }
        ).encode(),
        "yaml-bad": b"interactions:\n  - request: [unclosed\n    response: :::\n",
        "yaml-tag": b"!!python/object/apply:os.system ['true']\n",
        "yaml-wrong-shape": yaml.dump({"interactions": [{"request": 1, "response": "x"}]}).encode(),
        "yaml-missing-fields": yaml.dump(
            {"interactions": [{"request": {"method": "GET", "uri": "http://x/"}, "response": {}}], "version": 1}
        ).encode(),
        "yaml-bomb": b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
        "csv-bad-quotes": b'a,b\n"1,2\n"3""",4\n',
        "csv-long-line": b"a,b\n" + b"x" * (2 * 1024 * 1024) + b"\n",
        "env-junk": b"AZURE_CLIENT_SECRET\nexport =\n'unterminated\n\x00\x01=\xff\n",
        "env-huge-line": b"AZURE_TENANT_ID=" + b"a" * (1024 * 1024) + b"\n",
        "notebook-junk": json.dumps({"cells": 5, "nbformat": "x", "metadata": []}).encode(),
    }


def special_paths(tmp: Path) -> dict[str, Path]:
    """Paths that are not regular files, or cannot be read."""
    paths: dict[str, Path] = {}
    paths["directory"] = tmp / "a-directory"
    paths["directory"].mkdir()
    paths["fifo"] = tmp / "a-fifo"
    os.mkfifo(paths["fifo"])
    paths["dev-zero-symlink"] = tmp / "zero.json"
    paths["dev-zero-symlink"].symlink_to("/dev/zero")
    paths["dev-null"] = Path("/dev/null")
    paths["broken-symlink"] = tmp / "broken.json"
    paths["broken-symlink"].symlink_to(tmp / "nowhere")
    paths["missing"] = tmp / "missing.json"
    return paths


def file_options(tmp: Path, collection: Path) -> list[tuple[str, list[str]]]:
    """Every command line that reads a user-named file; ``{}`` is where the bad file goes."""
    good = str(collection)
    return [
        ("collection", ["run", "{}"]),
        ("environment", ["run", good, "-e", "{}"]),
        ("globals", ["run", good, "-g", "{}"]),
        ("iteration data", ["run", good, "-d", "{}", "-n", "1"]),
        ("iteration data (all rows)", ["run", good, "-d", "{}"]),
        ("replay cassette", ["run", good, "--replay", "{}"]),
        ("doctor .env", ["doctor", "--env-file", "{}"]),
        ("doctor environment", ["doctor", "-e", "{}"]),
        ("token environment", ["token", "-e", "{}"]),
        ("doctor replay", ["doctor", "--sandbox", "--replay", "{}"]),
        ("cassette check", ["cassette", "check", "{}"]),
    ]


def output_options(good: str) -> list[list[str]]:
    """Command lines that write a user-named file; ``{}`` is the bad destination."""
    return [
        ["run", good, "-r", "json", "--reporter-json-export", "{}"],
        ["run", good, "-r", "junit", "--reporter-junit-export", "{}"],
        ["run", good, "--export-environment", "{}"],
        ["run", good, "--export-globals", "{}"],
        ["run", good, "--record", "{}"],
        ["doctor", "--sandbox", "--record", "{}"],
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path, dict[str, Path]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    collection = tmp / "good.postman_collection.json"
    collection.write_text(json.dumps(GOOD_COLLECTION))
    files = {}
    for name, content in bad_contents().items():
        files[name] = tmp / f"{name}.bad"
        files[name].write_bytes(content)
    files.update(special_paths(tmp))
    return tmp, collection, files


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_every_bad_file_in_every_file_option_is_a_clear_error(corpus, monkeypatch):
    tmp, collection, files = corpus
    monkeypatch.chdir(tmp)
    before = _peak_mib()
    checked = 0
    for option, template in file_options(tmp, collection):
        for name, path in files.items():
            args = [str(path) if a == "{}" else a for a in template]
            started = time.perf_counter()
            code, output = invoke(args)
            TIMES[(option, name)] = time.perf_counter() - started
            checked += 1
            unusable = name in ("directory", "fifo", "dev-zero-symlink", "broken-symlink", "missing", "binary")
            if unusable and not (option == "cassette check" and name == "missing"):
                assert code == 2, (option, name, code, output)
            if code == 2:  # the message names the file (or, for settings, the field read from it)
                assert path.name in output or str(path) in output or "AZURE_" in output, (option, name, output)
    assert checked >= 300
    assert _peak_mib() - before < MEMORY_BOUND_MIB


def test_every_bad_output_path_is_refused_without_touching_it(corpus, monkeypatch):
    tmp, collection, files = corpus
    monkeypatch.chdir(tmp)
    destinations = {
        "directory": files["directory"],
        "fifo": files["fifo"],
        "dev-full": Path("/dev/full"),
        "dev-null": Path("/dev/null"),
        "missing-directory": tmp / "no" / "such" / "dir" / "out.json",
    }
    for template in output_options(str(collection)):
        for name, path in destinations.items():
            code, output = invoke([str(path) if a == "{}" else a for a in template])
            assert code == 2, (template, name, output)
            assert str(path) in output, (template, name, output)
    assert files["fifo"].exists() and not files["fifo"].is_file()  # never removed or replaced


def test_full_disk_is_a_clear_error(corpus, monkeypatch):
    tmp, collection, _ = corpus
    monkeypatch.chdir(tmp)
    import o365check.user_files as user_files

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(user_files.os, "fsync", full)
    target = tmp / "env-out.json"
    target.write_text("kept")
    code, output = invoke(["run", str(collection), "--export-environment", str(target)])
    assert code == 2 and "disk is full" in output and str(target) in output
    assert target.read_text() == "kept"  # the old file is untouched
    assert not [p for p in tmp.iterdir() if p.name.startswith(".env-out.json.")]  # no temporary left


def test_huge_csv_with_one_iteration_reads_only_what_it_needs(tmp_path, monkeypatch):
    """200 MB of CSV with -n 1: streamed, so memory stays far below the file's size."""
    monkeypatch.chdir(tmp_path)
    collection = tmp_path / "c.json"
    collection.write_text(json.dumps(GOOD_COLLECTION))
    data = tmp_path / "big.csv"
    row = b"value-one,value-two,value-three," + b"x" * 60 + b"\n"
    with open(data, "wb") as handle:
        handle.write(b"a,b,c,d\n")
        chunk = row * 10_000
        while handle.tell() < 200 * 1024 * 1024:
            handle.write(chunk)
    before = _peak_mib()
    code, output = invoke(["run", str(collection), "-d", str(data), "-n", "1"])
    assert code in (1, 3), output  # the request fails (nothing listens), the data was usable
    assert _peak_mib() - before < 100
    code, output = invoke(["run", str(collection), "-d", str(data)])  # all rows: refused, with the way out
    assert code == 2 and "-n" in output and str(data) in output


# ----------------------------------------------------------------------------- hypothesis
KEYS = [
    "info", "item", "name", "request", "url", "method", "header", "body", "mode", "raw", "auth", "type", "event",
    "listen", "script", "exec", "variable", "key", "value", "values", "disabled", "enabled", "query", "host",
    "path", "protocol", "port", "urlencoded", "formdata", "options", "oauth2", "basic", "id", "schema",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["{{x}}", "http://127.0.0.1:9/", "GET", "oauth2", "secret", "test", "\ud800", "\x1b[2J"]),
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS), children, max_size=5),
    max_leaves=25,
)
FUZZ = settings(
    max_examples=int(os.environ.get("O365CHECK_FUZZ_EXAMPLES", "230")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()  # lone surrogates survive as \ud800 escapes


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hypothesis")
    (path / "good.json").write_text(json.dumps(GOOD_COLLECTION))
    return path


@FUZZ
@given(document=JSONISH)
def test_random_collections(fuzz_dir, document):
    path = _write(fuzz_dir, "c.json", _encode(document))
    invoke(["run", str(path), "-n", "1", "--timeout", "2000", "--timeout-script", "500"])


@FUZZ
@given(document=JSONISH, scope=st.sampled_from(["-e", "-g"]))
def test_random_environments_and_globals(fuzz_dir, document, scope):
    path = _write(fuzz_dir, "e.json", _encode(document))
    invoke(["run", str(fuzz_dir / "good.json"), scope, str(path), "-n", "1"])


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list(',"\n\r \t\\ab1.é\x00') + ["\ud800"]), max_size=200))
def test_random_csv_data(fuzz_dir, text):
    path = _write(fuzz_dir, "d.csv", text.encode("utf-8", "surrogatepass"))
    invoke(["run", str(fuzz_dir / "good.json"), "-d", str(path), "-n", "2"])


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("=#'\"\n $\\{}AZURE_TENANTIDxé\x00") + ["\ud800"]), max_size=200))
def test_random_env_files(fuzz_dir, text):
    path = _write(fuzz_dir, "x.env", text.encode("utf-8", "surrogatepass"))
    invoke(["consent-url", "--env-file", str(path)])  # reads the settings like doctor, sends nothing


@FUZZ
@given(document=JSONISH, interactions=st.lists(JSONISH, max_size=3))
def test_random_cassettes(fuzz_dir, document, interactions):
    body = {"interactions": interactions, "version": 1, "other": document}
    path = _write(fuzz_dir, "r.yaml", yaml.safe_dump(body, allow_unicode=False).encode("utf-8", "surrogatepass"))
    invoke(["run", str(fuzz_dir / "good.json"), "--replay", str(path), "-n", "1"])
    invoke(["cassette", "check", str(path)])


OPTION_VALUES = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.text(max_size=12),
    st.just(""),
    st.just("\ud800"),
    st.just("\udcff"),  # what Python makes of argv bytes that are not UTF-8
)


@FUZZ
@given(
    option=st.sampled_from(
        [
            "-n",
            "--delay-request",
            "--timeout-request",
            "--timeout",
            "--timeout-script",
            "--folder",
            "--env-var",
            "--global-var",
            "-r",
            "--sandbox",
            "--allow-secret-to",
        ]
    ),  # fmt: skip
    value=OPTION_VALUES,
)
def test_random_run_options(fuzz_dir, option, value):
    args = ["run", str(fuzz_dir / "good.json"), option, value]
    if option != "-n":
        args += ["-n", "1"]
    if option != "--timeout":  # -n 10**18 must end too: the whole run is bounded
        args += ["--timeout", "300"]
    invoke(args)


@FUZZ
@given(
    option=st.sampled_from(
        ["--tenant-id", "--client-id", "--client-secret", "--sender", "--to", "--sandbox", "--cloud"]
    ),
    value=OPTION_VALUES,
    command=st.sampled_from(["consent-url", "scope-mailboxes"]),
)
def test_random_settings_options(option, value, command):
    invoke([command, option, value] + ([] if option == "--sandbox" else ["--sandbox"]))


def test_enough_inputs_per_run():
    """The 7 @given tests above run 230 examples each (1,610) plus the corpus (~440 inputs and outputs)."""
    given_tests = [name for name, value in globals().items() if name.startswith("test_random_")]
    assert len(given_tests) == 7
    corpus_inputs = (len(bad_contents()) + 6) * 11 + 5 * 6  # (contents + special paths) x file options + outputs
    assert FUZZ.max_examples * len(given_tests) + corpus_inputs >= 2000
