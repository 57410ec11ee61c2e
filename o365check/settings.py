"""Settings and Secret: what the user told us, from where, and whether it can work.

Values come, highest precedence first, from explicit arguments (CLI options, widgets), the process
environment, a ``.env`` file, or a Postman environment file. Names follow azure-identity
(``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``, ``AZURE_CLIENT_CERTIFICATE_PATH``,
``AZURE_CLIENT_CERTIFICATE_PASSWORD``) plus ``O365CHECK_SENDER``, ``O365CHECK_RECIPIENT``,
``O365CHECK_CLOUD``, ``O365CHECK_SANDBOX`` (a scenario name), ``O365CHECK_CASSETTE`` and
``O365CHECK_RECORD_MODE``. This is the only module that reads ``os.environ``.

Validation happens before any request and reports every problem at once (``Settings.problems``).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .clouds import CLOUDS
from .errors import Problem, SettingsError
from .redact import MASK, Redactor

__all__ = ["ENV_NAMES", "Secret", "Settings", "read_certificate"]

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
    # Where each value came from ("AZURE_TENANT_ID", ".env", "--tenant-id", "env.json"...), for messages.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | os.PathLike[str] | None = None
    ) -> Settings:
        """Read the azure-identity variables (and ours) from the environment, then a ``.env`` file."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        file_values: Mapping[str, str | None] = {}
        if env_file is not None:
            file_values = _read_env_file(Path(env_file))
        for name, var in ENV_NAMES.items():
            raw = environ.get(var)
            where = var
            if raw is None or raw == "":
                raw, where = file_values.get(var), f"{var} in {env_file}"
            if raw is None or raw == "":
                continue
            values[name] = raw
            sources[name] = where
        return cls._build(values, sources)

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
        for name, keys in POSTMAN_KEYS.items():
            for key in keys:
                if enabled.get(key) not in (None, ""):
                    values[name] = str(enabled[key])
                    sources[name] = f"{key!r} in {path.name}"
                    break
        return cls._build(values, sources)

    @classmethod
    def _build(cls, values: dict[str, Any], sources: dict[str, str]) -> Settings:
        for name in _SECRET_FIELDS:
            if name in values and not isinstance(values[name], Secret):
                values[name] = Secret(values[name])
        for name in ("tenant_id", "client_id", "sender", "recipient", "cloud"):
            if isinstance(values.get(name), str):
                values[name] = values[name].strip()
        return cls(**values, sources=sources)

    def merged_over(self, base: Settings) -> Settings:
        """These settings where given, ``base`` elsewhere (options over environment over files)."""
        changes: dict[str, Any] = {}
        sources = dict(base.sources)
        for f in fields(self):
            if f.name == "sources":
                continue
            mine = getattr(self, f.name)
            if mine not in (None, "") and not (f.name == "cloud" and mine == "global" and "cloud" not in self.sources):
                changes[f.name] = mine
                if f.name in self.sources:
                    sources[f.name] = self.sources[f.name]
        return replace(base, **changes, sources=sources)

    def with_values(self, source: str = "", **values: Any) -> Settings:
        """A copy with some values changed (secrets may be given as plain strings)."""
        values = {k: v for k, v in values.items() if v is not None}
        built = Settings._build(
            dict(values), {k: source or OPTION_NAMES.get(k, f"--{k.replace('_', '-')}") for k in values}
        )
        return built.merged_over(self)

    # ----------------------------------------------------------------- questions
    @property
    def has_credentials(self) -> bool:
        """True when the user gave anything that points at a real tenant."""
        return bool(self.tenant_id or self.client_id or self.client_secret or self.certificate_path)

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
            if f.name != "sources" and getattr(self, f.name) not in (None, "")
        )
        return f"Settings({shown})"

    # ----------------------------------------------------------------- validation
    def problems(self) -> list[Problem]:
        """Every error and warning at once, each naming the field, the (masked) value and the fix."""
        found: list[Problem] = []
        found += _check_tenant(self.tenant_id, self.source_of("tenant_id"))
        found += _check_client_id(self.client_id, self.source_of("client_id"))
        found += _check_credential(self)
        found += _check_address(self.sender, self.source_of("sender"), "sender", required=True)
        if self.recipient:
            found += _check_address(self.recipient, self.source_of("recipient"), "recipient", required=False)
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


def _decode(raw: bytes) -> str:
    """Text of a file that may carry a UTF-8 BOM or be UTF-16 (as Postman exports sometimes are)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def _read_env_file(path: Path) -> Mapping[str, str | None]:
    from dotenv import dotenv_values  # imported here: only needed when a .env file is used

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
        text = read_user_bytes(path, ".env file", limit=1024 * 1024).decode("utf-8-sig")
    except UserFileError as exc:
        raise SettingsError([Problem(str(path), "", "cannot be used", f"{exc}.", code="env-file-unreadable")]) from None
    except UnicodeDecodeError as exc:
        raise SettingsError(
            [
                Problem(
                    str(path),
                    "",
                    f"is not UTF-8 text (byte {exc.start})",
                    "Save it as UTF-8.",
                    code="env-file-unreadable",
                )
            ]
        ) from None
    return dotenv_values(stream=io.StringIO(text.replace("\x00", "")))


def _check_tenant(tenant: str, where: str) -> list[Problem]:
    if not tenant:
        return [
            Problem(
                where,
                "",
                "is not set",
                "Copy the Directory (tenant) ID from Entra admin center > App registrations > your app > Overview.",
                code="tenant-missing",
            )
        ]
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


def _check_client_id(client_id: str, where: str) -> list[Problem]:
    if not client_id:
        return [
            Problem(
                where,
                "",
                "is not set",
                "Copy the Application (client) ID from App registrations > your app > Overview.",
                code="client-id-missing",
            )
        ]
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
        return [
            Problem(
                s.source_of("client_secret"),
                "",
                "is not set (and no certificate either)",
                "Create one under App registrations > your app > Certificates & secrets > New client secret and copy its Value, or set AZURE_CLIENT_CERTIFICATE_PATH.",
                code="credential-missing",
            )
        ]
    if s.client_secret:
        value = s.client_secret.reveal()
        where = s.source_of("client_secret")
        if _PLACEHOLDER.match(value):
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


def _check_address(address: str, where: str, what: str, *, required: bool) -> list[Problem]:
    if not address:
        if required:
            return [
                Problem(
                    where,
                    "",
                    "is not set",
                    "Give the mailbox the app sends as (its user principal name or primary SMTP address).",
                    code=f"{what}-missing",
                )
            ]
        return []
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
