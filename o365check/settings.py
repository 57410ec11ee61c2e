"""Settings and Secret: what the user told us, from where, and whether it can work.

Values come, highest precedence first, from explicit arguments (CLI options, widgets), a ``.env``
file the user named, a Postman environment file the user named, then the process environment (a
file named for this run wins over whatever the shell happens to hold). Names follow azure-identity
(``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``, ``AZURE_CLIENT_CERTIFICATE_PATH``,
``AZURE_CLIENT_CERTIFICATE_PASSWORD``) plus ``O365CHECK_SENDER``, ``O365CHECK_RECIPIENT``,
``O365CHECK_CLOUD``, ``O365CHECK_SANDBOX`` (a scenario name), ``O365CHECK_CASSETTE`` and
``O365CHECK_RECORD_MODE``. This is the only module that reads ``os.environ``.

Validation happens before any request and reports every problem at once (``Settings.problems``).

Provenance: ``Settings.sources`` says where each value came from (option, environment variable,
``.env`` file and line, Postman environment file and key, sandbox scenario); ``Settings.named``
lists what the user pointed at, so a target is never swapped for the sandbox behind their back.
A named file that gives none of the needed values is an error that lists the keys it does hold.
"""

from __future__ import annotations

import io
import json
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .clouds import CLOUDS
from .errors import Problem, SettingsError
from .redact import MASK, Redactor

__all__ = ["ENV_ALIASES", "ENV_NAMES", "Secret", "Settings", "read_certificate"]

# Settings field -> environment variable.
ENV_NAMES: dict[str, str] = {
    "tenant_id": "AZURE_TENANT_ID",
    "client_id": "AZURE_CLIENT_ID",
    "client_secret": "AZURE_CLIENT_SECRET",
    "certificate_path": "AZURE_CLIENT_CERTIFICATE_PATH",
    "certificate_password": "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "sender": "O365CHECK_SENDER",
    "recipient": "O365CHECK_RECIPIENT",
    "cloud": "O365CHECK_CLOUD",
    "sandbox": "O365CHECK_SANDBOX",
    "cassette": "O365CHECK_CASSETTE",
    "record_mode": "O365CHECK_RECORD_MODE",
}
# Settings field -> the CLI option that sets it, where the names differ.
OPTION_NAMES: dict[str, str] = {"certificate_path": "--certificate", "recipient": "--to"}
# Keys a Postman environment may use for each field (first match wins).
POSTMAN_KEYS: dict[str, tuple[str, ...]] = {
    "tenant_id": ("tenant_id", "tenantId", "TenantID", "tenant", "TenantId"),
    "client_id": ("client_id", "clientId", "ClientID", "ClientId", "app_id", "appId"),
    "client_secret": ("client_secret", "clientSecret", "ClientSecret", "secret"),
    "sender": ("sender", "sender_email", "senderEmail", "from", "mailbox", "UserName"),
    "recipient": ("recipient", "to", "recipient_email"),
    "cloud": ("cloud",),
}
# Names other tools use for the same values, read from a .env file the user named (never from the
# process environment, where a generic CLIENT_ID may belong to anything). The provenance says
# "TENANT_ID in x.env line 1, read as AZURE_TENANT_ID", so the alias is never silent.
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "tenant_id": ("TENANT_ID", "AZURE_AD_TENANT_ID", "AAD_TENANT_ID", "MS_TENANT_ID"),
    "client_id": ("CLIENT_ID", "APP_ID", "APPLICATION_ID", "AZURE_APP_ID", "AZURE_AD_CLIENT_ID", "AAD_CLIENT_ID"),
    "client_secret": ("CLIENT_SECRET", "APP_SECRET", "AZURE_AD_CLIENT_SECRET", "AAD_CLIENT_SECRET"),
    "certificate_path": ("CLIENT_CERTIFICATE_PATH", "CERTIFICATE_PATH"),
    "sender": ("SENDER", "SENDER_EMAIL", "SENDER_ADDRESS", "MAIL_FROM", "FROM_EMAIL", "FROM_ADDRESS"),
    "recipient": ("RECIPIENT", "RECIPIENT_EMAIL", "MAIL_TO", "TO_EMAIL"),
}
# The values a check cannot do without (a certificate stands in for the secret).
_NEEDED = ("tenant_id", "client_id", "client_secret", "sender")
# Words in a key we do not read -> the field it probably means (for "rename X to Y").
_KEY_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("tenant", "directory", "tid"), "tenant_id"),
    (("secret", "password", "pwd"), "client_secret"),
    (("cert", "certificate", "pem", "pfx"), "certificate_path"),
    (("client", "app", "application", "appid", "clientid"), "client_id"),
    (("sender", "from", "mailbox", "user", "upn", "username"), "sender"),
    (("recipient", "to", "rcpt"), "recipient"),
)
_SECRET_FIELDS = ("client_secret", "certificate_password")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_GUID_ANYWHERE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_PLACEHOLDER = re.compile(
    r"^\s*(\{\{.*\}\}|\{.*\}|<.*>|\$\{.*\}|%.*%|x{4,}|your[-_ ].*|undefined|null|none|changeme|todo)\s*$", re.I
)
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,63}$")


class Secret:
    """A secret string that never prints itself; ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:  # pickling (e.g. to a kernel) keeps it a Secret
        return (Secret, (self._value,))


def _describe_secret(secret: Secret) -> str:
    """What we may say about a secret's value: its length and shape, never its characters."""
    value = secret.reveal()
    shape = ", GUID-shaped" if _GUID.match(value.strip()) else ""
    return f"{MASK} ({len(value)} characters{shape})"


@dataclass(frozen=True)
class Settings:
    """Everything needed to check one app registration. Immutable; use ``replace`` to change."""

    tenant_id: str = ""
    client_id: str = ""
    client_secret: Secret | None = None
    certificate_path: str = ""
    certificate_password: Secret | None = None
    sender: str = ""
    recipient: str = ""
    cloud: str = "global"
    sandbox: str | None = None
    cassette: str = ""
    record_mode: str = ""
    # Where each value came from ("AZURE_TENANT_ID in .env line 3", "--tenant-id", "'tenant_id' in env.json"...).
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # What the user pointed at ("--env-file x.env", "-e env.json", "--tenant-id", "notebook parameter tenant_id"):
    # when anything is named, the sandbox is never used unless asked for.
    named: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # Named file -> the keys it holds that o365check does not read, each with the name it probably means ("").
    unread_keys: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict, compare=False, repr=False)
    # Field -> where it was found present but empty (a Postman export's blank current value, "KEY=" in a .env).
    empty: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | os.PathLike[str] | None = None
    ) -> Settings:
        """Read the ``.env`` file the user named (if any), then the azure-identity variables (and ours)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        empty: dict[str, str] = {}
        unread: dict[str, tuple[tuple[str, str], ...]] = {}
        if env_file is not None:
            entries = _read_env_file(Path(env_file))
            label = str(env_file)
            read: set[str] = set()
            for name, var in ENV_NAMES.items():
                for key in (var, *ENV_ALIASES.get(name, ())):
                    if key not in entries:
                        continue
                    read.add(key)
                    raw, line = entries[key]
                    where = f"{key} in {label} line {line}" + ("" if key == var else f", read as {var}")
                    if raw:
                        values[name], sources[name] = raw, where
                        break
                    empty.setdefault(name, where)
            unread[label] = tuple((key, _probable_name(key, ENV_NAMES)) for key in entries if key not in read)
            if not values:
                raise SettingsError([_nothing_read(label, "env", unread[label], empty)])
        for name, var in ENV_NAMES.items():
            from_environment = environ.get(var)
            if name in values or not from_environment:
                continue
            values[name], sources[name] = from_environment, f"environment variable {var}"
        named = (f"--env-file {env_file}",) if env_file is not None else ()
        return cls._build(values, sources, named=named, unread_keys=unread, empty=empty)

    @classmethod
    def from_postman_environment(cls, path: str | os.PathLike[str]) -> Settings:
        """Read tenant, client, secret, sender... from a ``*.postman_environment.json`` file."""
        from .user_files import UserFileError, read_user_bytes

        path = Path(path)
        try:
            raw = read_user_bytes(path, "Postman environment")
        except UserFileError as exc:
            raise SettingsError(
                [Problem(str(path), "", "cannot be read", f"Check the path ({exc}).", code="env-file-unreadable")]
            ) from exc
        try:
            data = json.loads(_decode(raw))
            entries = data["values"]
            assert isinstance(entries, list)
        except (ValueError, KeyError, TypeError, AssertionError, RecursionError) as exc:
            raise SettingsError(
                [
                    Problem(
                        str(path),
                        "",
                        'is not a Postman environment (no "values" list)',
                        "Export the environment from Postman (… > Export) and pass that file.",
                        code="env-file-invalid",
                    )
                ]
            ) from exc
        enabled = {
            str(e.get("key")): e.get("value")
            for e in entries
            if isinstance(e, dict) and e.get("enabled", True) is not False and not e.get("disabled", False)
        }
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        empty: dict[str, str] = {}
        read: set[str] = set()
        for name, keys in POSTMAN_KEYS.items():
            for key in keys:
                if key not in enabled:
                    continue
                read.add(key)
                if enabled[key] not in (None, ""):
                    values[name] = str(enabled[key])
                    sources[name] = f"{key!r} in {path}"
                    break
                empty.setdefault(name, f"{key!r} in {path}")
        unread = tuple(
            (key, _probable_name(key, {n: k[0] for n, k in POSTMAN_KEYS.items()})) for key in enabled if key not in read
        )
        if not values:
            raise SettingsError([_nothing_read(str(path), "postman", unread, empty)])
        return cls._build(values, sources, named=(f"-e {path}",), unread_keys={str(path): unread}, empty=empty)

    @classmethod
    def _build(cls, values: dict[str, Any], sources: dict[str, str], **provenance: Any) -> Settings:
        for name in _SECRET_FIELDS:
            if name in values and not isinstance(values[name], Secret):
                values[name] = Secret(values[name])
        for name in ("tenant_id", "client_id", "sender", "recipient", "cloud"):
            if isinstance(values.get(name), str):
                values[name] = values[name].strip(" \t\r\n")  # not str.strip(): invisible characters are reported
        return cls(**values, sources=sources, **provenance)

    def merged_over(self, base: Settings) -> Settings:
        """These settings where given, ``base`` elsewhere (options over environment over files)."""
        changes: dict[str, Any] = {}
        sources = dict(base.sources)
        for f in fields(self):
            if f.name in _PROVENANCE_FIELDS:
                continue
            mine = getattr(self, f.name)
            if mine not in (None, "") and not (f.name == "cloud" and mine == "global" and "cloud" not in self.sources):
                changes[f.name] = mine
                if f.name in self.sources:
                    sources[f.name] = self.sources[f.name]
        named = tuple(dict.fromkeys((*self.named, *base.named)))
        empty = {**base.empty, **self.empty}
        return replace(
            base,
            **changes,
            sources=sources,
            named=named,
            unread_keys={**base.unread_keys, **self.unread_keys},
            empty={k: v for k, v in empty.items() if k not in changes and not getattr(base, k)},
        )

    def with_values(self, source: str = "", **values: Any) -> Settings:
        """A copy with some values changed (secrets may be given as plain strings).

        Each value counts as named by the user (an option, a widget, a notebook parameter): from then
        on the sandbox is used only when ``sandbox`` is set. ``sandbox`` itself names nothing.
        """
        values = {k: v for k, v in values.items() if v is not None}
        where = {k: source or OPTION_NAMES.get(k, f"--{k.replace('_', '-')}") for k in values}
        named = tuple(where[k] for k in values if k not in ("sandbox", "cassette", "record_mode") and values[k] != "")
        built = Settings._build(dict(values), where, named=named)
        return built.merged_over(self)

    # ----------------------------------------------------------------- questions
    @property
    def has_credentials(self) -> bool:
        """True when the user gave anything that points at a real tenant."""
        return bool(self.tenant_id or self.client_id or self.client_secret or self.certificate_path)

    @property
    def user_gave_settings(self) -> bool:
        """True when the user named a source or a value reached us from anywhere: then never the sandbox
        unless asked for. Only "nothing at all was given" falls back to the sandbox."""
        ignored = ("sandbox", "cassette", "record_mode")
        return bool(self.named) or any(
            k not in ignored for k in self.sources if not self.sources[k].startswith("sandbox")
        )

    def provenance(self) -> dict[str, str]:
        """Field -> where its value came from, for every value that is set (JSON reports show this)."""
        return {
            f.name: self.sources.get(f.name, "default" if f.name == "cloud" else "")
            for f in fields(self)
            if f.name not in _PROVENANCE_FIELDS and getattr(self, f.name) not in (None, "")
        }

    def empty_secret_problem(self) -> Problem | None:
        """The problem of a named file whose client secret is present but empty, for commands that do not
        send it: the file is still broken, and saying so now saves a failed check later."""
        if "client_secret" not in self.empty or self.client_secret:
            return None
        return _missing("client_secret", self, "", "credential-missing")

    @property
    def effective_recipient(self) -> str:
        """Where the test message goes: the recipient, else the sender itself (the guide's button)."""
        return self.recipient or self.sender

    def source_of(self, name: str) -> str:
        return self.sources.get(name) or ENV_NAMES.get(name, name)

    def redactor(self) -> Redactor:
        """A Redactor that knows this settings' secrets."""
        redactor = Redactor()
        for name in _SECRET_FIELDS:
            secret = getattr(self, name)
            if secret:
                redactor.add(secret.reveal())
                if name == "client_secret":
                    redactor.add_basic(self.client_id, secret.reveal())
        return redactor

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if f.name not in _PROVENANCE_FIELDS and getattr(self, f.name) not in (None, "")
        )
        return f"Settings({shown})"

    # ----------------------------------------------------------------- validation
    def problems(self) -> list[Problem]:
        """Every error and warning at once, each naming the field, the (masked) value and the fix."""
        found: list[Problem] = []
        found += _check_tenant(self)
        found += _check_client_id(self)
        found += _check_credential(self)
        found += _check_address(self, "sender", required=True)
        if self.recipient:
            found += _check_address(self, "recipient", required=False)
        if self.cloud.lower() not in CLOUDS:
            found.append(
                Problem(
                    self.source_of("cloud"),
                    self.cloud,
                    "is not a known cloud",
                    f"Use one of: {', '.join(CLOUDS)}.",
                    code="cloud-unknown",
                )
            )
        return found

    def validate(self) -> list[Problem]:
        """Raise SettingsError listing every error; return the warnings when there is none."""
        found = self.problems()
        if any(p.severity == "error" for p in found):
            raise SettingsError(found)
        return found


_PROVENANCE_FIELDS = ("sources", "named", "unread_keys", "empty")


def _decode(raw: bytes) -> str:
    """Text of a file that may carry a UTF-8 BOM or be UTF-16 (as Postman exports sometimes are)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def _read_env_file(path: Path) -> dict[str, tuple[str, int]]:
    """Key -> (value, line) of a ``.env`` file, as python-dotenv reads it (quotes, ``export``, ``${VAR}``).

    A line python-dotenv cannot parse is an error naming the line and the fix (its own message, "could
    not parse statement starting at line 3", names neither, and the value would be silently lost).
    """
    from dotenv import dotenv_values  # imported here: only needed when a .env file is used
    from dotenv.parser import parse_stream

    if not path.is_file():
        raise SettingsError(
            [
                Problem(
                    str(path),
                    "",
                    "does not exist",
                    "Pass the path of your .env file, or leave --env-file out.",
                    code="env-file-unreadable",
                )
            ]
        )
    from .user_files import UserFileError, read_user_bytes

    try:  # a regular file of at most 1 MiB: no FIFO, device or runaway file (issue 9 item 5)
        text = _decode(read_user_bytes(path, ".env file", limit=1024 * 1024)).replace("\x00", "")
    except UserFileError as exc:
        raise SettingsError([Problem(str(path), "", "cannot be used", f"{exc}.", code="env-file-unreadable")]) from None
    except UnicodeDecodeError as exc:
        why = f"is not UTF-8 or UTF-16 text (byte {exc.start})"
        raise SettingsError([Problem(str(path), "", why, "Save it as UTF-8.", code="env-file-unreadable")]) from None
    lines: dict[str, int] = {}
    broken: list[Problem] = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            broken.append(_syntax_problem(str(path), binding.original.line, binding.original.string))
        elif binding.key is not None:
            lines[binding.key] = binding.original.line
    if broken:
        raise SettingsError(broken)
    values = dotenv_values(stream=io.StringIO(text))
    return {key: (value or "", lines.get(key, 0)) for key, value in values.items()}


_ENV_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=")


def _syntax_problem(path: str, line: int, statement: str) -> Problem:
    """Why python-dotenv could not read a statement, and how to write it. The value is never shown."""
    first = statement.splitlines()[0] if statement.strip() else statement
    key = _ENV_KEY.match(first)
    name = key.group(1) if key else ""
    after = first[key.end() :].strip() if key else ""
    if key and after[:1] in ("'", '"') and after.count(after[0]) % 2:
        why = f"the {after[0]} quote after {name}= is never closed"
        fix = f"Close it at the end of the value ({name}={after[0]}...{after[0]}), or remove it."
    elif key and re.search(r"\s", after.strip("'\"")):
        why = f"the value of {name} has a space but no quotes"
        fix = f'Put the value in double quotes: {name}="...".'
    elif "=" not in first and not key:
        word = first.strip().split()[0] if first.strip() else ""
        why = "this line is not NAME=value" + (f" (it starts with {word!r})" if word and "=" not in word else "")
        fix = "Write one setting per line as NAME=value (for example AZURE_TENANT_ID=...), or start the line with # to keep it as a comment."
    elif not key:
        before = first.split("=", 1)[0].strip()
        why = f"the name before '=' ({before!r}) is not a variable name"
        fix = "Names are letters, digits and _ with no spaces or quotes (for example AZURE_CLIENT_SECRET=...)."
    else:
        why = f"the value of {name} cannot be parsed"
        fix = f'Put the value in double quotes ({name}="..."); inside them, write \\" for a quote character.'
    return Problem(f"{path} line {line}", "", f"cannot be read: {why}", fix, code="env-file-syntax")


def _words(key: str) -> set[str]:
    return {w.lower() for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])", key) if w}


def _probable_name(key: str, names: Mapping[str, str]) -> str:
    """The name of ours a key we do not read probably means (``MY_TENANT`` -> ``AZURE_TENANT_ID``), or ""."""
    words = _words(key)
    for hints, name in _KEY_HINTS:
        if words & set(hints) and name in names:
            return names[name]
    return ""


def _unread_text(unread: tuple[tuple[str, str], ...]) -> str:
    if not unread:
        return "it holds no keys at all"
    shown = [f"{key} (-> {meant}?)" if meant else key for key, meant in unread[:12]]
    more = f" and {len(unread) - 12} more" if len(unread) > 12 else ""
    return f"it holds {', '.join(shown)}{more}, which o365check does not read"


def _nothing_read(path: str, kind: str, unread: tuple[tuple[str, str], ...], empty: Mapping[str, str]) -> Problem:
    """A named file that gives no value at all: never go on without it (and never to the sandbox)."""
    if kind == "env":
        reads = ", ".join(ENV_NAMES[n] for n in (*_NEEDED, "recipient"))
        aliases = ", ".join(f"{a} -> {ENV_NAMES[n]}" for n in _NEEDED for a in ENV_ALIASES[n][:1])
        fix = f"o365check reads {reads} (and the aliases {aliases}). Rename the keys, or pass the right file."
    else:
        reads = ", ".join(POSTMAN_KEYS[n][0] for n in (*_NEEDED, "recipient"))
        fix = f"o365check reads the keys {reads} (or their camelCase forms). Rename the keys, or pass the right file."
    if empty:
        fix = f"{empty_value_fix(kind)} {fix}" if unread else empty_value_fix(kind)
        why = f"gives no value: {', '.join(empty.values())} {'is' if len(empty) == 1 else 'are'} empty"
        why += f"; {_unread_text(unread)}" if unread else ""
    else:
        why = f"gives none of the settings: {_unread_text(unread)}"
    return Problem(path, "", why, fix, code="env-file-unused")


def empty_value_fix(kind: str, instead: str = "set AZURE_CLIENT_SECRET (or pass --client-secret)") -> str:
    if kind == "postman":
        # Postman keeps what you type as a variable's "current value" on your machine and exports only the
        # "initial value" column, so a secret typed in the app arrives empty in the exported file.
        return (
            "Postman exports an environment's initial values, not the current values you typed in the app, so a "
            "secret entered only as a current value arrives empty. Copy it into the Initial value column before "
            f"exporting (it is then shared with your workspace), or leave it out of the file and {instead} instead."
        )
    return "Put the value after the = sign (NAME=value), or remove the line and set the environment variable."


def _missing(name: str, s: Settings, fix: str, code: str) -> Problem:
    """A needed value nobody gave; when the user named files, say which keys they hold instead."""
    where = s.source_of(name)
    if name in s.empty:
        kind = "postman" if "'" in s.empty[name] else "env"
        return Problem(s.empty[name], "", "is empty", empty_value_fix(kind), code=f"{code}-empty")
    files = list(s.unread_keys)
    if not files:
        # Values from the shell alone (say O365CHECK_SENDER) also mean "not the sandbox": say how to get it.
        hint = "" if s.named or not s.sources else " (To try the built-in sandbox instead, pass --sandbox.)"
        return Problem(where, "", "is not set", fix + hint, code=code)
    notes = "".join(f"{path}: {_unread_text(keys)}. " for path, keys in s.unread_keys.items() if keys)
    return Problem(
        where,
        "",
        f"is not set: {' nor '.join(files)} {'has' if len(files) == 1 else 'have'} no value for it",
        f"{notes}{fix} (o365check reads {ENV_NAMES[name]}"
        + (f", or in a .env file also {', '.join(ENV_ALIASES[name])}" if name in ENV_ALIASES else "")
        + (f"; in a Postman environment the key {POSTMAN_KEYS[name][0]}" if name in POSTMAN_KEYS else "")
        + ")",
        code=f"{code}-from-file",
    )


# Typographic quotes that word processors and chat apps put where straight quotes were typed.
_CURLY_QUOTES = "\u201c\u201d\u2018\u2019\u201e\u201a\u00ab\u00bb\u2032\u2033"
_LABEL = re.compile(
    r"^\s*(client[ _-]?secret(?: value)?|secret(?: value)?|value|client[ _-]?id|application \(client\) id|"
    r"application[ _-]?id|app[ _-]?id|directory \(tenant\) id|directory[ _-]?id|tenant[ _-]?id|tenant|sender|"
    r"from|mailbox|recipient|to)\s*[:=]\s*(?=\S)",
    re.I,
)
_POSTMAN_VARIABLE = re.compile(r"^\s*\{\{\s*([\w.$-]+)\s*\}\}\s*$")


def _pasted_mistake(value: str, what: str) -> tuple[str, str, str] | None:
    """(message, fix, code) for a value damaged on its way from the portal, or None. Never quotes the value."""
    for position, char in enumerate(value, 1):
        if char in "\t\r\n ":  # surrounding white space has its own finding (secret-has-whitespace)
            continue
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Co") or category == "Zs":
            name = unicodedata.name(char, "a control character")
            return (
                f"contains an invisible character (U+{ord(char):04X} {name}) at position {position}",
                "Retype the value, or paste it through a plain-text editor: copies from web pages, Word, Teams or "
                "PDFs can carry invisible characters that the portal never had.",
                f"{what}-invisible-character",
            )
    stripped = value.strip()
    if not stripped:
        return None
    if (
        stripped[:1] in _CURLY_QUOTES
        or stripped[-1:] in _CURLY_QUOTES
        or (what != "secret" and any(c in _CURLY_QUOTES for c in stripped))
    ):
        return (
            "has typographic (curly) quotes around it",
            'Remove them: word processors and chat apps turn " into \u201c \u201d. In a .env file use straight '
            'quotes ("...") or none.',
            f"{what}-curly-quotes",
        )
    if stripped[:1] in "\"'" and stripped[-1:] == stripped[:1] and len(stripped) > 1:
        return (
            "is wrapped in quote characters that are part of the value here",
            "Remove the quotes: only a .env file strips them; options, environment variables and Postman "
            "environments keep them.",
            f"{what}-quoted",
        )
    if stripped[:1] in "\"'" or stripped[-1:] in "\"'":
        return (
            "starts or ends with a stray quote character",
            "Remove the quote: it was copied along with the value.",
            f"{what}-stray-quote",
        )
    if match := _POSTMAN_VARIABLE.match(value):
        return (
            f"is the Postman variable reference {{{{{match.group(1)}}}}}, not a value",
            "o365check reads the file's values as they are; Postman resolves {{...}} only inside requests. Put "
            "the value itself here (for the secret: or set AZURE_CLIENT_SECRET).",
            f"{what}-is-postman-variable",
        )
    if label := _LABEL.match(value):
        shown = label.group(1)
        return (
            f"starts with the label {shown + ':'!r} copied along with the value",
            f"Keep only what follows {shown!r}.",
            f"{what}-has-label",
        )
    return None


def _pasted(value: str, where: str, what: str, shown: str) -> list[Problem]:
    found = _pasted_mistake(value, what)
    return [Problem(where, shown, found[0], found[1], code=found[2])] if found else []


def _check_tenant(s: Settings) -> list[Problem]:
    tenant, where = s.tenant_id, s.source_of("tenant_id")
    if not tenant:
        fix = "Copy the Directory (tenant) ID from Entra admin center > App registrations > your app > Overview."
        return [_missing("tenant_id", s, fix, "tenant-missing")]
    if pasted := _pasted(tenant, where, "tenant", tenant):
        return pasted
    if _PLACEHOLDER.match(tenant):
        return [
            Problem(
                where,
                tenant,
                "is still a placeholder",
                "Replace it with your Directory (tenant) ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.",
                code="tenant-is-placeholder",
            )
        ]
    if "/" in tenant or ":" in tenant:
        guid = _GUID_ANYWHERE.search(tenant)
        hint = f" The tenant ID inside it is probably {guid.group(0)}." if guid else ""
        return [
            Problem(
                where,
                tenant,
                "is a URL, not a tenant ID",
                f"Give only the Directory (tenant) ID or domain, not the whole URL.{hint}",
                code="tenant-is-url",
            )
        ]
    if tenant.lower() in ("common", "consumers", "organizations"):
        return [
            Problem(
                where,
                tenant,
                "is not a specific tenant",
                "The client-credentials flow needs your own tenant (AADSTS9001023 otherwise): use the Directory (tenant) ID from the app's Overview page.",
                code="tenant-not-specific",
            )
        ]
    if _GUID.match(tenant) or _DOMAIN.match(tenant):
        return []
    hint = f" Did you mean {tenant}.onmicrosoft.com?" if re.fullmatch(r"[A-Za-z0-9-]+", tenant) else ""
    return [
        Problem(
            where,
            tenant,
            "is not a GUID or domain",
            f"Use the Directory (tenant) ID (8-4-4-4-12 hex digits) or a verified domain.{hint}",
            code="tenant-invalid",
        )
    ]


def _check_client_id(s: Settings) -> list[Problem]:
    client_id, where = s.client_id, s.source_of("client_id")
    if not client_id:
        fix = "Copy the Application (client) ID from App registrations > your app > Overview."
        return [_missing("client_id", s, fix, "client-id-missing")]
    if pasted := _pasted(client_id, where, "client-id", client_id):
        return pasted
    if _PLACEHOLDER.match(client_id):
        return [
            Problem(
                where,
                client_id,
                "is still a placeholder",
                "Replace it with the Application (client) ID (a GUID) from the app's Overview page.",
                code="client-id-is-placeholder",
            )
        ]
    if not _GUID.match(client_id):
        return [
            Problem(
                where,
                client_id,
                "is not a GUID",
                "The Application (client) ID looks like 11111111-2222-3333-4444-555555555555: copy it from the app's Overview page (not the display name or the Object ID).",
                code="client-id-invalid",
            )
        ]
    return []


def _check_credential(s: Settings) -> list[Problem]:
    found: list[Problem] = []
    if not s.client_secret and not s.certificate_path:
        fix = (
            "Create one under App registrations > your app > Certificates & secrets > New client secret and copy "
            "its Value, or set AZURE_CLIENT_CERTIFICATE_PATH."
        )
        problem = _missing("client_secret", s, fix, "credential-missing")
        if problem.message == "is not set":
            problem = replace(problem, message="is not set (and no certificate either)")
        return [problem]
    if s.client_secret:
        value = s.client_secret.reveal()
        where = s.source_of("client_secret")
        if pasted := _pasted(value, where, "secret", _describe_secret(s.client_secret)):
            found += pasted
        elif _PLACEHOLDER.match(value):
            found.append(
                Problem(
                    where,
                    _describe_secret(s.client_secret),
                    "is still a placeholder",
                    "Paste the secret's Value from Certificates & secrets.",
                    code="secret-is-placeholder",
                )
            )
        elif _GUID.match(value.strip()):
            found.append(
                Problem(
                    where,
                    _describe_secret(s.client_secret),
                    "looks like a Secret ID, not a secret value",
                    "In Certificates & secrets the secret has a Value column and a Secret ID column; copy the Value (shown only once, right after creation; if it is hidden, create a new secret).",
                    severity="warning",
                    code="secret-looks-like-guid",
                )
            )
        elif value != value.strip():
            found.append(
                Problem(
                    where,
                    _describe_secret(s.client_secret),
                    "starts or ends with white space",
                    "Remove the spaces or line break that came with the copy and paste.",
                    severity="warning",
                    code="secret-has-whitespace",
                )
            )
    if s.certificate_path:
        path = Path(s.certificate_path)
        if not path.is_file() or not os.access(path, os.R_OK):
            found.append(
                Problem(
                    s.source_of("certificate_path"),
                    s.certificate_path,
                    "cannot be read",
                    "Point it at a PEM file holding the private key and the certificate (as azure-identity reads it).",
                    code="certificate-unreadable",
                )
            )
        elif (reason := _pem_problem(path, s.certificate_password)) is not None:
            found.append(
                Problem(
                    s.source_of("certificate_path"),
                    s.certificate_path,
                    reason,
                    "Use a PEM file holding the private key and the certificate (as azure-identity reads it); "
                    "set AZURE_CLIENT_CERTIFICATE_PASSWORD if the key is encrypted.",
                    code="certificate-unreadable",
                )
            )
    return found


def read_certificate(path: str | os.PathLike[str], password: Secret | None) -> tuple[Any, Any]:
    """The private key and certificate of a PEM file (as azure-identity reads it).

    Raises ValueError saying what is wrong with the file (OSError when it cannot be read).
    """
    from cryptography import x509  # imported here: only certificate users pay for it
    from cryptography.hazmat.primitives import serialization

    data = Path(path).read_bytes()
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ValueError("holds no PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(data, password=password.reveal().encode() if password else None)
    except TypeError:
        raise ValueError(
            "holds an encrypted private key but no password was given"
            if not password
            else "holds a private key the password does not open"
        ) from None
    except ValueError:
        raise ValueError("holds no private key, or the password does not open it") from None
    return key, certificate


def _pem_problem(path: Path, password: Secret | None) -> str | None:
    """Why the PEM at ``path`` is not a usable key + certificate, or None when it is."""
    try:
        read_certificate(path, password)
    except ValueError as exc:
        return str(exc)
    return None


def _check_address(s: Settings, what: str, *, required: bool) -> list[Problem]:
    address, where = getattr(s, what), s.source_of(what)
    if not address:
        if required:
            fix = "Give the mailbox the app sends as (its user principal name or primary SMTP address)."
            return [_missing(what, s, fix, f"{what}-missing")]
        return []
    if pasted := _pasted(address, where, what, address):
        return pasted
    if _PLACEHOLDER.match(address) or not _ADDRESS.match(address):
        many = " Give one address only." if any(c in address for c in ";, ") else ""
        return [
            Problem(
                where,
                address,
                "is not an e-mail address",
                f"Use an address like user@contoso.com.{many}",
                code=f"{what}-invalid",
            )
        ]
    return []
