"""The sandbox's SMTP submission server: aiosmtpd on 127.0.0.1, STARTTLS, AUTH XOAUTH2 (reference §8.2).

It answers as Exchange Online's client submission does: ``EHLO`` offers ``STARTTLS`` (TLS 1.2 or
later) and only after it ``AUTH XOAUTH2``; the token must come from the sandbox's identity
platform and pass ``smtp_rules.check_xoauth2``; ``MAIL FROM`` needs a successful AUTH; the message
is refused or accepted after ``DATA``. Accepted messages go into the same outbox as Graph's.

Tokens never reach a log: aiosmtpd masks ``AUTH`` lines itself, the failure reasons we keep never
quote the token, and the message content is not logged.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import logging
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import getaddresses, make_msgid
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from .model import Directory, Mailbox, Tenant
from .smtp_hosts import SMTP_HOSTS
from .smtp_rules import REPLIES, SERVER_NAME, XOAUTH2_FAILURE_CHALLENGE, check_submission, check_xoauth2

__all__ = ["SandboxSmtpServer"]


class _NoLoginDataNotice(logging.Filter):
    """aiosmtpd sets its own deprecated Session.login_data after every AUTH and logs a warning about it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Session.login_data is deprecated" not in str(record.msg)


logging.getLogger("mail.log").addFilter(_NoLoginDataNotice())


def _reply(key: str, **values: str) -> str:
    code, text = REPLIES[key]
    return f"{code} {text.format(**values)}"


class _ExchangeLikeSMTP(SMTP):
    """aiosmtpd's protocol with Exchange Online's replies where they differ from aiosmtpd's defaults."""

    # An AUTH XOAUTH2 line carries a whole token (RFC 4954 §4: at least 12288 octets must be accepted).
    command_size_limit = 16 * 1024
    command_size_limits: dict[str, int] = collections.defaultdict(lambda: 16 * 1024)
    line_length_limit = 16 * 1024

    async def smtp_AUTH(self, arg: str) -> None:
        # Before STARTTLS Exchange does not offer AUTH at all: 504 5.7.4 (§8.2), not aiosmtpd's 538.
        if self.session is not None and self.session.extended_smtp and not self._tls_protocol:
            await self.push(_reply("auth-before-starttls"))
            return
        await super().smtp_AUTH(arg)

    async def check_auth_needed(self, caller_method: str) -> bool:
        assert self.session is not None
        if not self.session.authenticated:
            await self.push(_reply("not-authenticated"))  # §8.3: MAIL FROM without a successful AUTH
            return True
        return False


class _Handler:
    """aiosmtpd handler: the XOAUTH2 mechanism and the decision after DATA, over the tenant model."""

    def __init__(
        self,
        directory: Directory,
        outbox: list[dict[str, Any]],
        outbox_lock: threading.Lock,
        clock: Callable[[], float],
        log: list[str],
    ) -> None:
        self.directory = directory
        self.outbox = outbox
        self.outbox_lock = outbox_lock
        self.clock = clock
        self.log = log  # why each AUTH failed, for tests and `sandbox serve`; never holds a token

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 2:
            blob = args[1]
        else:  # no initial response: ask for it with an empty challenge (RFC 4954)
            answer = await server.challenge_auth("", encode_to_b64=False)
            if not isinstance(answer, bytes):
                return AuthResult(success=False, handled=True)  # aborted with "*": aiosmtpd answered
            blob = base64.b64encode(answer).decode()
        outcome = check_xoauth2(blob, self.directory, self.clock())
        self.log.append(f"AUTH XOAUTH2: {outcome.reply}: {outcome.why}")
        if not outcome.ok:
            if outcome.challenge_first:
                # §8.2: the 334 JSON challenge; whatever the client answers, the 535 follows.
                await server.challenge_auth(XOAUTH2_FAILURE_CHALLENGE)
            return AuthResult(success=False, handled=False, message=_reply(outcome.reply))
        return AuthResult(
            success=True, message=_reply("auth-ok"), auth_data=(outcome.tenant, outcome.mailbox, outcome.app)
        )

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        tenant, mailbox, _app = session.auth_data or (None, None, None)
        if not isinstance(tenant, Tenant) or not isinstance(mailbox, Mailbox):  # DATA needs a successful AUTH
            return "503 5.5.1 Bad sequence of commands"
        now = self.clock()
        refused = check_submission(mailbox, tenant, envelope.mail_from or "", now)
        if refused is not None:
            key, values = refused
            self.log.append(f"DATA: {key}")
            return _reply(key, **values)
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        message_id = str(message.get("Message-ID") or make_msgid(domain="o365check.sandbox")).strip("<>")
        body = message.get_body(preferencelist=("plain", "html")) if message.is_multipart() else message
        accepted = {
            "via": "smtp",
            "sender": envelope.mail_from,
            "authenticated_as": mailbox.address,
            "to": list(envelope.rcpt_tos),
            "header_to": [a for _, a in getaddresses(message.get_all("To", []))],
            "subject": str(message.get("Subject", "")),
            "body": body.get_content() if body is not None else "",
            "content_type": "HTML" if body is not None and body.get_content_subtype() == "html" else "Text",
            "received_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
            "message_id": message_id,
        }
        with self.outbox_lock:
            self.outbox.append(accepted)
        self.log.append("DATA: accepted")
        return f"250 2.0.0 OK <{message_id}> [Hostname={SERVER_NAME}]"


class _LoopbackController(Controller):
    """aiosmtpd's threaded controller, on a free port when ``port`` is 0, speaking ``_ExchangeLikeSMTP``."""

    def factory(self) -> SMTP:
        return _ExchangeLikeSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Any:
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port)
        self.port = server.sockets[0].getsockname()[1]
        return server


class SandboxSmtpServer:
    """A running SMTP server on 127.0.0.1: ``host``, ``port``, ``ca_path`` (the CA its STARTTLS
    certificate chains to), ``log`` (one line per AUTH/DATA decision, no secrets), ``stop()``."""

    def __init__(
        self,
        directory: Directory,
        outbox: list[dict[str, Any]],
        outbox_lock: threading.Lock,
        *,
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.log: list[str] = []
        context, self.ca_path = self._make_tls_context()
        handler = _Handler(directory, outbox, outbox_lock, clock, self.log)
        self._controller = _LoopbackController(
            handler,
            hostname="127.0.0.1",
            port=port,
            server_hostname=SERVER_NAME,
            ident="Microsoft ESMTP MAIL Service ready (o365check sandbox)",
            tls_context=context,
            require_starttls=False,
            auth_require_tls=True,
            auth_exclude_mechanism=["LOGIN", "PLAIN"],  # OAuth only (Basic auth is being retired, §8)
            enable_SMTPUTF8=True,
        )
        try:
            self._controller.start()
        except BaseException:
            os.remove(self.ca_path)
            raise
        self.host = "127.0.0.1"
        self.port: int = self._controller.port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @staticmethod
    def _make_tls_context() -> tuple[ssl.SSLContext, str]:
        """A throw-away CA (trustme) and a certificate for loopback and every cloud's SMTP host; TLS 1.2+."""
        import trustme

        ca = trustme.CA(organization_name="o365check sandbox SMTP")
        certificate = ca.issue_cert("127.0.0.1", "localhost", *sorted(SMTP_HOSTS))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # §8.3: TLS 1.0/1.1 are refused
        certificate.configure_cert(context)
        handle, path = tempfile.mkstemp(prefix="o365check-sandbox-smtp-ca-", suffix=".pem")
        with os.fdopen(handle, "wb") as file:
            file.write(ca.cert_pem.bytes())
        return context, path

    def stop(self) -> None:
        """Stop serving and remove the CA file."""
        self._controller.stop()
        if os.path.exists(self.ca_path):
            os.remove(self.ca_path)

    def __enter__(self) -> SandboxSmtpServer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
