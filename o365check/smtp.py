"""SMTP AUTH with OAuth 2.0 client credentials: the other way business apps send (reference §8).

The dialogue of Exchange Online's client submission, one command at a time, with Python's
``smtplib``: connect and ``EHLO``, ``STARTTLS`` (TLS 1.2 or later) and ``EHLO`` again,
``AUTH XOAUTH2`` (a ``334`` challenge is answered with an empty line to get the final reply,
§8.2), ``MAIL FROM``, ``RCPT TO`` and ``DATA``. Every reply that is not a success becomes an
:class:`SmtpReplyError` whose ``error_code`` is the enhanced status code (``5.7.3``). Nothing is
ever sent twice: a connection lost after ``DATA`` is an ambiguous outcome, reported, not retried.

Where to connect is the target's business (:func:`smtp_endpoint`): the cloud's host on port 587
live; in sandbox mode the sandbox's SMTP server on 127.0.0.1, with the certificate checked for
the real host name against the sandbox's CA, as HTTP requests to Microsoft hosts are routed to
the sandbox in-process.
"""

from __future__ import annotations

import base64
import json
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from .errors import AmbiguousSendError, O365CheckError, ServiceError, ServiceUnreachableError

__all__ = [
    "EXCHANGE_CLOUDS",
    "ExchangeCloud",
    "SMTP_SEND_AS_APP",
    "SMTP_STEP_TITLES",
    "SmtpConversation",
    "SmtpEndpoint",
    "SmtpOptions",
    "SmtpReplyError",
    "build_smtp_test_message",
    "enhanced_status",
    "exchange_cloud",
    "smtp_endpoint",
    "xoauth2_string",
]

SMTP_SEND_AS_APP = "SMTP.SendAsApp"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"  # Office 365 Exchange Online's appId
LOCAL_HOSTNAME = "o365check.localhost"  # what EHLO says: stable in transcripts, reveals nothing of this machine

SMTP_STEP_TITLES = {
    "smtp-token": "App-only token for Exchange Online (scope https://outlook.office365.com/.default)",
    "smtp-claims": "Token claims for SMTP: audience Exchange Online, SMTP.SendAsApp role, tenant, expiry",
    "smtp-connect": "SMTP connection and EHLO",
    "smtp-starttls": "STARTTLS (TLS 1.2 or later) and EHLO again",
    "smtp-auth": "AUTH XOAUTH2 with the token",
    "smtp-mail-from": "MAIL FROM the sender mailbox",
    "smtp-send": "RCPT TO and DATA of a test message",
}


@dataclass(frozen=True)
class ExchangeCloud:
    """Exchange Online in one cloud: App ID URI (token audience and scope prefix) and SMTP host."""

    name: str
    resource: str
    smtp_host: str
    smtp_port: int = 587

    @property
    def scope(self) -> str:
        return f"{self.resource}/.default"


EXCHANGE_CLOUDS: dict[str, ExchangeCloud] = {
    c.name: c
    for c in (
        ExchangeCloud("global", "https://outlook.office365.com", "smtp.office365.com"),  # §8.1/§8.2 [doc]
        # §8.2: national clouds have their own hosts, e.g. smtp.office365.us for GCC High [unverified].
        ExchangeCloud("usgov", "https://outlook.office365.us", "smtp.office365.us"),
        ExchangeCloud("usgov-dod", "https://outlook-dod.office365.us", "smtp-dod.office365.us"),  # [unverified]
        ExchangeCloud("china", "https://partner.outlook.cn", "smtp.partner.outlook.cn"),  # [unverified]
    )
}


def exchange_cloud(name: str) -> ExchangeCloud:
    return EXCHANGE_CLOUDS.get((name or "global").strip().lower(), EXCHANGE_CLOUDS["global"])


@dataclass(frozen=True)
class SmtpOptions:
    """How the SMTP client is configured; empty values mean "as a correct client does it"."""

    scope: str = ""  # token scope; default the cloud's https://outlook.office365.com/.default
    user: str = ""  # the XOAUTH2 user= mailbox; default the sender
    starttls: bool = True
    host: str = ""  # default the cloud's SMTP host
    port: int = 0  # default 587

    def merged_over(self, typed: dict[str, str]) -> SmtpOptions:
        """These options where given, ``typed`` (what a sandbox scenario's app is configured with) elsewhere."""
        return SmtpOptions(
            scope=self.scope or typed.get("scope", ""),
            user=self.user or typed.get("user", ""),
            starttls=self.starttls and typed.get("starttls", "yes") != "no",
            host=self.host,
            port=self.port,
        )

    def as_typed(self) -> dict[str, str]:
        """The non-default values, as a scenario's ``smtp_client`` / a transcript's metadata spell them."""
        typed = {"scope": self.scope, "user": self.user, "starttls": "" if self.starttls else "no"}
        return {k: v for k, v in typed.items() if v}


@dataclass(eq=False)
class SmtpReplyError(ServiceError):
    """The SMTP server refused a command (a 4xx or 5xx reply)."""

    command: str = ""
    status: int | None = None  # the reply code, as ServiceError's status
    code: int = 0
    text: str = ""
    host: str = ""
    challenge: str = ""  # the decoded 334 challenge that came before a failed AUTH, if any

    def __str__(self) -> str:
        return f"{self.command}: {self.code} {self.text}"

    @property
    def error_code(self) -> str:
        """The enhanced status code (``5.7.3``), else the reply code (``535``)."""
        return enhanced_status(self.text) or str(self.code)


_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")


def enhanced_status(text: str) -> str:
    """The RFC 3463 enhanced status code at the start of a reply's text, or ``""``."""
    match = _ENHANCED.match(text)
    return match.group(1) if match else ""


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response, base64 (§8.2): ``user=<m>^Aauth=Bearer <t>^A^A``."""
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def build_smtp_test_message(sender: str, to: str, *, now: Any = None) -> EmailMessage:
    """The test message as MIME (the SMTP counterpart of ``mail.build_test_message``)."""
    from datetime import UTC, datetime

    moment = now or datetime.now(UTC)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "o365check test message (SMTP AUTH XOAUTH2)"
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = make_msgid(domain=LOCAL_HOSTNAME)
    message.set_content(
        "This is a test message sent by o365check through SMTP AUTH with an OAuth 2.0 app-only token.\n"
        "If you can read it, the app can send mail through smtp.office365.com.\n"
    )
    return message


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where the SMTP client connects: the host it names (``host``, used for TLS) and the socket it opens."""

    host: str
    port: int
    connect_host: str = ""
    connect_port: int = 0
    cafile: str | None = None  # a CA to trust instead of the system's (the sandbox's local CA)
    label: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def smtp_endpoint(cloud: str, sandbox: Any = None, options: SmtpOptions | None = None) -> SmtpEndpoint:
    """The cloud's submission host; in sandbox mode routed to the sandbox's SMTP server (started on demand)."""
    options = options or SmtpOptions()
    exchange = exchange_cloud(cloud)
    host, port = options.host or exchange.smtp_host, options.port or exchange.smtp_port
    if sandbox is None:
        return SmtpEndpoint(host, port, host, port, label=f"{host}:{port}")
    server = sandbox.smtp_server()
    return SmtpEndpoint(
        host, port, server.host, server.port, server.ca_path, label=f"{host}:{port} (sandbox at {server.address})"
    )


def tls_context(cafile: str | None) -> ssl.SSLContext:
    """Certificate and host name checked; TLS 1.2 or later (§8.2; §8.3: 1.0/1.1 get 421 4.7.66)."""
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass
class SmtpConversation:
    """One SMTP session, a method per step. ``client_class`` lets a transcript record or replay it."""

    endpoint: SmtpEndpoint
    client_class: type[smtplib.SMTP] = smtplib.SMTP
    timeout: float = 30.0
    client: smtplib.SMTP | None = None
    authenticated_as: str = ""
    tls_version: str = ""
    features: dict[str, str] = field(default_factory=dict)
    last_reply: tuple[int, str] = (0, "")

    def _refused(self, command: str, code: int, text: bytes | str, challenge: str = "") -> SmtpReplyError:
        shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        shown = " ".join(shown.split("\n"))
        return SmtpReplyError(
            command=command, code=code, text=shown, host=self.endpoint.host, status=code, challenge=challenge
        )

    def _unreachable(self, exc: BaseException) -> ServiceUnreachableError:
        if isinstance(exc, ssl.SSLError):
            reason = f"the TLS handshake failed ({exc.reason or type(exc).__name__}): certificate not trusted, or TLS older than 1.2"
        elif isinstance(exc, (TimeoutError, socket.timeout)):
            reason = "it did not answer in time"
        elif isinstance(exc, socket.gaierror):
            reason = "its name could not be resolved (no network, or a typo in the host)"
        elif isinstance(exc, ConnectionRefusedError):
            reason = "the connection was refused (port 587 blocked by a firewall or the ISP?)"
        else:
            reason = f"the connection failed ({type(exc).__name__})"
        return ServiceUnreachableError(self.endpoint.address, reason)

    def _remember(self, reply: tuple[int, bytes | str]) -> tuple[int, str]:
        code, text = reply
        shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        self.last_reply = (code, " ".join(shown.split("\n")))
        return self.last_reply

    def connect(self) -> tuple[int, str]:
        """Open the connection, read the greeting and say EHLO."""
        client = self.client_class(timeout=self.timeout, local_hostname=LOCAL_HOSTNAME)
        client.logical_address = self.endpoint.address  # type: ignore[attr-defined]  # what a transcript names
        self.client = client
        try:
            code, banner = client.connect(self.endpoint.connect_host or self.endpoint.host, self.endpoint.connect_port)
            # smtplib names the host it connected to in STARTTLS's SNI and certificate check: the
            # routed connection must still be checked for the real host name (smtp.office365.com).
            client._host = self.endpoint.host  # type: ignore[attr-defined]
            if code != 220:
                raise self._refused("connect", code, banner)
            code, text = client.ehlo()
        except smtplib.SMTPResponseException as exc:
            raise self._refused("connect", exc.smtp_code, exc.smtp_error) from None
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise self._unreachable(exc) from None
        if code != 250:
            raise self._refused("EHLO", code, text)
        self.features = dict(client.esmtp_features)
        return self._remember((code, text))

    def starttls(self) -> tuple[int, str]:
        """STARTTLS, then EHLO again (the server offers AUTH only now)."""
        client = self._client()
        if not client.has_extn("starttls"):
            raise SmtpReplyError(
                command="STARTTLS", code=0, text="the server does not offer STARTTLS", host=self.endpoint.host
            )
        try:
            code, text = client.starttls(context=tls_context(self.endpoint.cafile))
            self.tls_version = getattr(client, "replayed_tls", "") or str(client.sock.version())  # type: ignore[union-attr]
            ehlo = client.ehlo()
        except smtplib.SMTPResponseException as exc:
            raise self._refused("STARTTLS", exc.smtp_code, exc.smtp_error) from None
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise self._unreachable(exc) from None
        if ehlo[0] != 250:
            raise self._refused("EHLO", *ehlo)
        self.features = dict(client.esmtp_features)
        return self._remember((code, text))

    def auth_xoauth2(self, user: str, token: str) -> tuple[int, str]:
        """AUTH XOAUTH2 with the initial response; a 334 challenge is answered with an empty line (§8.2)."""
        client = self._client()
        try:
            code, text = client.docmd("AUTH", "XOAUTH2 " + xoauth2_string(user, token))
            challenge = ""
            if code == 334:
                challenge = _decode_challenge(text)
                code, text = client.docmd("")  # the empty response that ends the exchange
        except smtplib.SMTPServerDisconnected as exc:
            raise self._unreachable(exc) from None
        except OSError as exc:
            raise self._unreachable(exc) from None
        if code != 235:
            raise self._refused("AUTH XOAUTH2", code, text, challenge)
        self.authenticated_as = user
        return self._remember((code, text))

    def mail_from(self, sender: str) -> tuple[int, str]:
        client = self._client()
        try:
            code, text = client.mail(sender)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise self._unreachable(exc) from None
        if code != 250:
            raise self._refused("MAIL FROM", code, text)
        return self._remember((code, text))

    def send_message(self, sender: str, to: str, message: EmailMessage) -> tuple[int, str]:
        """RCPT TO and DATA. A connection lost after the message went out is ambiguous: never re-sent."""
        client = self._client()
        try:
            code, text = client.rcpt(to)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise self._unreachable(exc) from None
        if code not in (250, 251):
            raise self._refused("RCPT TO", code, text)
        try:
            code, text = client.data(message.as_bytes())
        except smtplib.SMTPDataError as exc:
            raise self._refused("DATA", exc.smtp_code, exc.smtp_error) from None
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise AmbiguousSendError(
                sender,
                f"the connection to {self.endpoint.host} was lost after the message was sent ({type(exc).__name__}); "
                "it may or may not have been accepted",
            ) from None
        if code != 250:
            raise self._refused("DATA", code, text)
        return self._remember((code, text))

    def close(self) -> None:
        """QUIT politely; a connection that is already gone is fine."""
        if self.client is None:
            return
        try:
            self.client.quit()
        except (OSError, smtplib.SMTPException, O365CheckError):  # gone already, or a replay that ended early
            self.client.close()
        self.client = None

    def _client(self) -> smtplib.SMTP:
        if self.client is None:
            raise RuntimeError("connect() first")
        return self.client


def _decode_challenge(text: bytes | str) -> str:
    """The 334 challenge as text: base64-decoded (Exchange sends JSON, §8.2), else as received."""
    raw = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    try:
        decoded = base64.b64decode(raw.strip(), validate=True).decode("utf-8")
        json.loads(decoded)
        return decoded
    except ValueError:
        return raw.strip()
