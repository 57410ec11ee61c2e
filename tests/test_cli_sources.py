"""Issue 12: provenance, no sandbox behind the user's back, input mistakes named, waits said out loud,
advice in its place, commands that agree, `token decode`, `--verbose`, diagnosis texts."""

import base64
import json
import re
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from o365check.cli import _WaitLine, main
from o365check.diagnosis import diagnose, format_diagnosis
from o365check.diagnosis_catalog import AADSTS, FALLBACKS, FINDINGS, GRAPH
from o365check.sandbox import Sandbox
from o365check.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = ROOT / "collections" / "office365-sendmail.postman_collection.json"
TENANT = "8c7e6f0a-3b1d-4c2e-9f5a-1d2e3f4a5b6c"
CLIENT = "4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d"
CANARY = "CANARY~Secret.Value_0123456789abcdefXYZ"
CLEAN_ENV = dict.fromkeys(
    (
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "O365CHECK_SENDER",
        "O365CHECK_RECIPIENT",
        "O365CHECK_CLOUD",
        "O365CHECK_SANDBOX",
        "O365CHECK_CASSETTE",
    )
)


def invoke(*args, env=None, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], env={**CLEAN_ENV, **(env or {})}, input=input)


def jwt(claims, header=None):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part(header or {'typ': 'JWT', 'alg': 'RS256', 'kid': 'k1'})}.{part(claims)}.SIGNATUREsignatureSIGNATURE"


def app_claims(**changes):
    claims = {
        "aud": "https://graph.microsoft.com",
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": int(time.time()) - 60,
        "exp": int(time.time()) + 3600,
        "appid": CLIENT,
        "idtyp": "app",
        "roles": ["Mail.Send"],
        "tid": TENANT,
        "ver": "1.0",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def files(tmp_path):
    unknown = tmp_path / "unknown.env"
    unknown.write_text(f"MY_TENANT={TENANT}\nAPPLICATION={CLIENT}\nPASSWORD=abc\nFROM_ADDR=a@contoso.example\n")
    empty = tmp_path / "empty.postman_environment.json"
    empty.write_text(
        json.dumps(
            {
                "name": "exported",
                "values": [
                    {"key": "tenant_id", "value": TENANT, "enabled": True},
                    {"key": "client_id", "value": CLIENT, "enabled": True},
                    {"key": "client_secret", "value": "", "type": "secret", "enabled": True},
                    {"key": "sender", "value": "notifications@contoso.example", "enabled": True},
                ],
            }
        )
    )
    broken = tmp_path / "broken.env"
    broken.write_text(f'AZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET="{CANARY}\nAZURE_CLIENT_ID={CLIENT}\n')
    return {"unknown": unknown, "empty": empty, "broken": broken}


COMMANDS = [
    ["doctor"],
    ["token"],
    ["token", "decode", jwt(app_claims())],
    ["send"],
    ["consent-url"],
    ["scope-mailboxes"],
    ["run", str(COLLECTION)],
    ["report", "--output", str(Path(tempfile.gettempdir()) / "o365check-sources-report.html")],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]) if c[0] == "token" else c[0])
@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("unknown", ["unknown.env", "MY_TENANT (-> AZURE_TENANT_ID?)", "PASSWORD (-> AZURE_CLIENT_SECRET?)"]),
        ("empty", ["empty.postman_environment.json", "'client_secret'", "initial values"]),
        ("broken", ["broken.env line 2", "AZURE_CLIENT_SECRET", "never closed"]),
    ],
)
def test_every_command_stops_on_a_named_source_it_cannot_use(command, kind, words, files, monkeypatch):
    """Exit 2 naming the file and key; never the sandbox, never a raw python-dotenv message, never the secret."""
    monkeypatch.setattr("socket.socket.connect", lambda *a: (_ for _ in ()).throw(OSError("network blocked")))
    option = "-e" if kind == "empty" else "--env-file"
    result = invoke(*command, option, files[kind])
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, result.output
    assert "SANDBOX" not in result.output and "could not parse statement" not in result.output
    assert CANARY not in result.output and "Traceback" not in result.output


def test_provenance_in_human_and_json_output(tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text(f"# my app\nTENANT_ID={TENANT}\nAZURE_CLIENT_ID={CLIENT}\n")
    env = {"AZURE_CLIENT_SECRET": CANARY, "O365CHECK_SENDER": "notifications@contoso.example"}
    result = invoke("doctor", "--env-file", env_file, "--sandbox", env=env)
    out = result.output
    assert f"Tenant: {TENANT} (from TENANT_ID in {env_file} line 2, read as AZURE_TENANT_ID)" in out
    assert f"Client ID: {CLIENT} (from AZURE_CLIENT_ID in {env_file} line 3)" in out
    assert "Credential: client secret (not shown) (from environment variable AZURE_CLIENT_SECRET)" in out
    assert "Cloud: global (default)" in out and CANARY not in out
    report = json.loads(invoke("doctor", "--env-file", env_file, "--sandbox", "--json", env=env).output)
    assert report["sources"]["Tenant"] == f"TENANT_ID in {env_file} line 2, read as AZURE_TENANT_ID"
    assert report["sources"]["Credential"] == "environment variable AZURE_CLIENT_SECRET"
    assert report["target"] == "sandbox scenario 'ok'" and report["target_description"].startswith("SANDBOX")


def test_a_named_source_is_never_replaced_by_the_sandbox(tmp_path, monkeypatch):
    monkeypatch.setattr("socket.socket.connect", lambda *a: (_ for _ in ()).throw(OSError("network blocked")))
    env_file = tmp_path / "partial.env"
    env_file.write_text(f"AZURE_TENANT_ID={TENANT}\nSOMETHING=else\n")
    for args in (["--env-file", env_file], ["--tenant-id", TENANT]):
        result = invoke("doctor", *args)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("o365check doctor: live") and "SANDBOX" not in result.output
        assert "Code: client-id-missing" in result.output and "Field: AZURE_CLIENT_ID" in result.output
    result = invoke("doctor", "--env-file", env_file)
    assert f"{env_file}: it holds SOMETHING, which o365check does not read" in result.output
    # Nothing at all given: the sandbox, and every output says so first.
    for command in (["doctor"], ["token"], ["send"], ["run", COLLECTION, "--sandbox"]):
        out = invoke(*command).output
        assert "SANDBOX" in out.splitlines()[0], (command, out.splitlines()[0])


def test_a_sandbox_asked_for_only_by_the_shell_does_not_override_a_named_source(files):
    result = invoke("doctor", "--tenant-id", TENANT, env={"O365CHECK_SANDBOX": "ok"})
    assert result.exit_code == 2 and "environment variable O365CHECK_SANDBOX asks for the sandbox" in result.output
    assert "--tenant-id" in result.output and "o365check doctor: SANDBOX" not in result.output
    assert invoke("doctor", env={"O365CHECK_SANDBOX": "ok"}).output.startswith("o365check doctor: SANDBOX")


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        ("\u201c" + CANARY + "\u201d", "secret-curly-quotes", "typographic (curly) quotes"),
        ('"' + CANARY, "secret-stray-quote", "stray quote"),
        (CANARY[:5] + "\u200b" + CANARY[5:], "secret-invisible-character", "U+200B ZERO WIDTH SPACE) at position 6"),
        ("{{clientSecret}}", "secret-is-postman-variable", "Postman variable reference {{clientSecret}}"),
        ("Client secret: " + CANARY, "secret-has-label", "label 'Client secret:'"),
    ],
)
def test_pasted_secret_mistakes_are_named_without_showing_the_secret(value, code, words):
    settings = Settings(tenant_id=TENANT, client_id=CLIENT, sender="a@contoso.example", sources={}).with_values(
        client_secret=value
    )
    problems = settings.problems()
    assert [p.code for p in problems] == [code]
    text = str(problems[0])
    assert words in text and CANARY not in text and "--client-secret" in text


def test_pasted_tenant_and_client_mistakes():
    settings = Settings().with_values(
        tenant_id="Directory (tenant) ID: " + TENANT, client_id="\u2018" + CLIENT + "\u2019", sender="a@contoso.example"
    )
    codes = {p.code: str(p) for p in settings.problems()}
    assert "label 'Directory (tenant) ID:'" in codes["tenant-has-label"]
    assert "client-id-curly-quotes" in codes


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('AZURE_CLIENT_SECRET="abc', 'the " quote after AZURE_CLIENT_SECRET= is never closed'),
        ("this is not a setting", "this line is not NAME=value (it starts with 'this')"),
        ("MY KEY=value", "is not a variable name"),
    ],
)
def test_env_file_syntax_errors_name_the_line_and_the_fix(tmp_path, line, words):
    env_file = tmp_path / "x.env"
    env_file.write_text(f"AZURE_TENANT_ID={TENANT}\n{line}\n")
    result = invoke("doctor", "--env-file", env_file)
    assert result.exit_code == 2
    assert f"{env_file} line 2 cannot be read" in result.output and words in result.output
    assert "could not parse statement" not in result.output and "abc" not in result.output


def test_waiting_is_said_out_loud_and_the_result_says_what_came_after(monkeypatch):
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)
    result = invoke("doctor", "--sandbox", "throttled", "--max-wait", "45")
    assert slept == [30]  # one wait of Retry-After; the second 30 s would exceed --max-wait
    assert "waiting 30 s: Graph answered 429 ApplicationThrottled and asked to wait (Retry-After)" in result.output
    assert "waited 30 s as Retry-After asked; then Graph asked for 30 s more, beyond --max-wait 45 s" in result.output
    result = invoke("doctor", "--sandbox", "throttled")
    assert "longer than --max-wait 10 s: o365check did not wait" in result.output and "waiting" not in result.output


def test_wait_line_counts_down_on_a_terminal():
    class Terminal:
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

        def isatty(self):
            return True

    terminal, slept = Terminal(), []
    line = _WaitLine(terminal, slept.append)
    line.announce(3, "Graph answered 429 and asked to wait (Retry-After)")
    line.sleep(3)
    assert slept == [1, 1, 1]
    assert "\rwaiting 3 s of 3 s" in terminal.text.replace("\x1b[K", "") and "waiting 1 s of 3 s" in terminal.text
    assert terminal.text.endswith("waited 3 s: Graph answered 429 and asked to wait (Retry-After)\n")


def test_advice_comes_last_only_after_a_successful_send():
    ok = invoke("doctor", "--sandbox").output
    assert ok.index("Result: all checks passed") < ok.index("Advice") < ok.index("Mail.Send lets this app send")
    assert "o365check scope-mailboxes --client-id" in ok and "New-ApplicationAccessPolicy" not in ok
    for scenario in ("access-policy-denied", "wrong-permission", "throttled", "no-admin-consent"):
        out = invoke("doctor", "--sandbox", scenario).output
        assert "Mail.Send lets this app send as any mailbox" not in out and "Advice" not in out
    warned = invoke("doctor", "--sandbox", "--client-secret", "11111111-2222-3333-4444-555555555555").output
    assert re.search(r"\[WARN\] settings", warned) and "[PASS] settings" not in warned


def _command_tree():
    names = set()

    def walk(group, prefix):
        for name, command in group.commands.items():
            names.add(f"{prefix} {name}".strip())
            if hasattr(command, "commands"):
                walk(command, f"{prefix} {name}")

    walk(main, "")
    return names


# Words that follow "o365check" in prose ("o365check did not wait"), never command names.
_PROSE = set(
    "did does has is will stops reads never only can cannot uses sends checks gives shows hit knows tries rather "
    "waits was and or itself import version also".split()
)


def _named_commands(text, *, code_only=False):
    """Commands named as `o365check X [Y]`: in the README only in code (backticks, `$ ` lines); in
    the catalog (plain text) wherever the next word is not prose."""
    pattern = r"o365check ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?"
    if code_only:
        pattern = r"(?:`|^\$ )" + pattern
    found = set()
    for first, second in re.findall(pattern, text, re.M):
        if code_only or first not in _PROSE:
            found.add(f"{first} {second}".strip())
    return found


def test_every_command_named_in_the_catalog_and_readme_exists():
    tree = _command_tree()
    catalog = [
        t
        for table in (AADSTS, GRAPH, FINDINGS, FALLBACKS)
        for e in table.values()
        for t in (e.title, e.explanation, *e.fixes)
    ]
    named = set().union(*(_named_commands(t) for t in catalog))
    named |= _named_commands((ROOT / "README.md").read_text(), code_only=True)
    for source in (ROOT / "o365check").rglob("*.py"):  # messages and docstrings quote commands in backticks
        named |= _named_commands(source.read_text(encoding="utf-8"), code_only=True)
    assert {"token decode", "scope-mailboxes"} <= {n if n in tree else n.split()[0] for n in named}
    for name in named:
        assert name in tree or name.split()[0] in tree, f"`o365check {name}` is named but does not exist"
        assert "claims" != name.split()[0]
        group = main.commands.get(name.split()[0])
        runs_alone = getattr(group, "invoke_without_command", False)  # `o365check token` is a command too
        if " " in name and hasattr(group, "commands") and not runs_alone:
            assert name in tree, f"`o365check {name}` is named but the group has no such subcommand"


def test_commands_take_the_same_sources_and_only_the_options_that_apply():
    for command in (["doctor"], ["token"], ["token", "decode"], ["send"], ["consent-url"], ["scope-mailboxes"]):
        help_text = invoke(*command, "--help").output
        for option in ("--env-file", "--environment", "--sandbox"):
            assert option in help_text, (command, option)
    consent_help = invoke("consent-url", "--help").output
    assert "--client-secret" not in consent_help and "--to " not in consent_help and "--sender" not in consent_help
    assert invoke("consent-url", "--client-secret", "x").exit_code == 2
    token_help = invoke("token", "--help").output
    assert "--to " not in token_help and "--sender" not in token_help and "--client-secret" in token_help
    decode_help = invoke("token", "decode", "--help").output
    assert "--client-secret" not in decode_help and "--tenant-id" in decode_help
    result = invoke("consent-url", "--sandbox")
    box = Sandbox("ok")
    assert result.exit_code == 0 and box.credentials["tenant_id"] in result.stdout
    assert "SANDBOX" in result.stderr
    scoped = invoke("scope-mailboxes", "--sandbox")
    assert scoped.exit_code == 0 and "<" not in scoped.output.split("# Application")[0]
    assert box.credentials["client_id"] in scoped.output and scoped.output.startswith(
        "# o365check scope-mailboxes: SANDBOX"
    )


def test_token_decode_explains_every_claim_and_never_prints_the_signature(tmp_path):
    token = jwt(app_claims(app_displayname="mailer", oid="5" * 8))
    for args, stdin in (
        (["token", "decode", token], None),
        (["token", "decode"], f"Bearer {token}\n"),
        (["token", "decode", "-"], json.dumps({"token_type": "Bearer", "access_token": token})),
    ):
        result = invoke(*args, "--tenant-id", TENANT, "--client-id", CLIENT, input=stdin)
        assert result.exit_code == 0, result.output
        out = result.output
        assert "SIGNATURE" not in out and token not in out and token.split(".")[1] not in out
        assert "application (client) ID of the app that asked for the token" in out
        assert "display name of the app that asked for the token" in out
        for claim in ("aud", "tid", "appid", "roles", "idtyp", "exp"):
            assert re.search(rf"\[PASS\] {claim}\b", out), claim
        assert "It carries the application permission Mail.Send" in out
        assert "whether the mailbox exists, is licensed" in out
    path = tmp_path / "token.txt"
    path.write_text(jwt(app_claims(roles=None, tid="0" * 8 + "-0000-0000-0000-" + "0" * 12)))
    result = invoke("token", "decode", "--file", path, "--tenant-id", TENANT)
    assert result.exit_code == 1
    assert re.search(r"\[FAIL\] roles", result.output) and "Why: The token has no roles" in result.output
    assert (
        re.search(r"\[FAIL\] tid", result.output) and "no roles at all: admin consent was not granted" in result.output
    )
    assert "[INFO] appid" in result.output and "give --client-id" in result.output
    bad = invoke("token", "decode", "not-a-token")
    assert bad.exit_code == 2 and "three Base64url parts" in bad.output


def test_token_decode_is_where_the_catalog_sends_people():
    assert "o365check token decode" in format_diagnosis(diagnose("claims-roles-missing"))
    assert "o365check token decode" in format_diagnosis(diagnose("claims-aud-wrong"))


def _sandbox_secret():
    return Sandbox("ok").credentials["client_secret"]


@pytest.mark.parametrize(
    "command",
    [["doctor", "--sandbox"], ["token", "--sandbox"], ["send", "--sandbox"], ["run", COLLECTION, "--sandbox"]],
    ids=["doctor", "token", "send", "run"],
)
def test_verbose_shows_each_exchange_masked(command):
    result = invoke(*command, "--verbose")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert re.search(r"^> POST https://login\.microsoftonline\.com/[^ ]+/oauth2/v2\.0/token$", err, re.M)
    assert re.search(r"^< 200 ", err, re.M) and "Content-Type: application/json" in err
    assert re.search(r"^> POST https://graph\.microsoft\.com/v1\.0/users/[^ ]+/sendMail$", err, re.M) or (
        command[0] == "token"
    )
    assert "client_secret=********" in err and "Authorization: Bearer ********" in err or command[0] == "token"
    assert '"access_token":"********"' in err
    assert _sandbox_secret() not in result.output and "eyJ" not in result.output


def test_verbose_shows_redirect_hops_from_history():
    import requests

    from o365check.redact import Redactor
    from o365check.verbose import attach_verbose

    def response(status, url):
        r = requests.Response()
        r.status_code, r.url, r.reason, r._content = status, url, "", b""
        r.request = requests.Request("GET", url).prepare()
        return r

    first, final = response(302, "https://a.example/"), response(200, "https://b.example/")
    final.history = [first]
    session, out = requests.Session(), __import__("io").StringIO()
    attach_verbose(session, Redactor(), out)
    session.hooks["response"][-1](final)
    session.hooks["response"][-1](final)  # shown once
    assert out.getvalue().count("> GET https://a.example/") == 1 and out.getvalue().count("< 200") == 1
    assert out.getvalue().index("< 302") < out.getvalue().index("< 200")


def test_diagnosis_texts_read_right():
    app_not_found = format_diagnosis(diagnose(700016 and _token_error(700016)))
    assert "find your app by its display name (not by this ID)" in app_not_found
    discovery = invoke("doctor", "--sandbox", "tenant-not-found").output
    assert (
        "token request refused" not in discovery.lower()
        and "the identity platform answered invalid_tenant" in discovery
    )
    consent = invoke("token", "--sandbox", "no-admin-consent")
    assert consent.exit_code == 1
    assert "[FAIL] roles" in consent.output and "Why: The token has no roles" in consent.output
    assert "Grant admin consent" in consent.output or "adminconsent" in consent.output
    assert "o365check claims" not in "".join(str(e) for t in (AADSTS, GRAPH, FINDINGS) for e in t.values())


def _token_error(code):
    from o365check.errors import TokenError

    return TokenError.from_response(
        {"error": "unauthorized_client", "error_description": f"AADSTS{code}: Application not found"}, 400
    )


def test_an_empty_postman_secret_is_filled_by_the_shell_and_aliases_are_not_read_from_it(files, monkeypatch):
    import click

    from o365check.cli import _load_settings

    monkeypatch.setenv("AZURE_CLIENT_SECRET", CANARY)
    monkeypatch.setenv("TENANT_ID", "ignored.example")
    given = dict.fromkeys(("tenant_id", "client_id", "client_secret", "certificate_path", "sender", "recipient"))
    given.update(cloud=None, env_file=None, postman_environment=str(files["empty"]), sandbox=None)
    with click.Context(main):
        settings = _load_settings(given)
    assert settings.client_secret.reveal() == CANARY and settings.empty == {}
    assert settings.source_of("tenant_id") == f"'tenant_id' in {files['empty']}"
    assert settings.problems() == []
    assert Settings.from_env({"TENANT_ID": TENANT}).tenant_id == ""


def test_what_was_waited_and_what_came_after_when_the_wait_pays_off():
    from o365check.doctor import run_doctor
    from o365check.http import build_session
    from o365check.sandbox.faults import Faults

    now = [1_795_000_000.0]  # the sandbox keeps Retry-After windows on this clock
    box = Sandbox(
        "ok",
        faults=Faults(host_rates={"graph.microsoft.com": 1.0}, statuses=(429,), retry_after=2, seed=1),
        clock=lambda: now[0],
    )
    heard, slept = [], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds
        box.app.injector.faults = Faults()  # the service recovers while we wait

    settings = Settings._build(dict(box.credentials), {})
    steps = list(
        run_doctor(
            settings,
            build_session(sandbox=box),
            sandbox=box,
            sleep=sleep,
            waiting=lambda s, why: heard.append((s, why)),
        )
    )
    send = steps[-1]
    assert send.status == "passed" and slept == [2], send.summary
    assert heard == [(2, "Graph answered 429 TooManyRequests and asked to wait (Retry-After)")]
    assert "after waiting 2 s as Retry-After asked" in send.summary


def test_run_env_file_values_reach_the_collection_and_stay_masked(tmp_path):
    env_file = tmp_path / "c.env"
    env_file.write_text(f"AZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET={CANARY}\n")
    report = tmp_path / "r.json"
    result = invoke(
        "run",
        COLLECTION,
        "--sandbox",
        "--env-file",
        env_file,
        "--verbose",
        "-r",
        "cli,json",
        "--reporter-json-export",
        report,
    )
    assert result.exit_code == 1  # the .env's secret replaced the scenario's: the token request is refused
    assert "AADSTS7000215" in result.output and "client_secret=********" in result.stderr
    assert CANARY not in result.output and CANARY not in report.read_text()
