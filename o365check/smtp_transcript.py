"""Record and replay an SMTP dialogue as a YAML transcript next to the HTTP cassette.

``doctor --via smtp --record doctor.yaml`` writes the HTTP exchanges (the token request) to
``doctor.yaml`` as before and the SMTP dialogue to ``doctor.smtp.yaml``; ``--replay doctor.yaml``
replays both with no socket opened. The format (documented in docs/smtp.md):

    format: o365check-smtp-transcript/1
    metadata: {recorded_with, recorded_against, target, server, client: {scope, user, starttls}}
    dialogue:                       # in order; a replay must send the same, and gets the same replies
      - connect: smtp.office365.com:587
      - reply: {code: 220, text: ...}
      - send: EHLO o365check.localhost
      - tls: TLSv1.3                # after a 220 to STARTTLS
      - send: AUTH XOAUTH2
        xoauth2: {user: notifications@contoso.example, token: o365check-redacted.<claims>}
      - data: |                     # the message, Date and Message-ID fixed
          From: ...

Scrubbing is the HTTP cassettes' (recording.py): the bearer token becomes
``recording.redact_token``'s ``o365check-redacted.<claims>`` (no signature: useless as a token),
and every line goes through the settings' ``Redactor`` (secret values in any encoding, tokens by
shape). A replay compares the scrubbed live line with the recorded one.
"""

from __future__ import annotations

import base64
import binascii
import re
import smtplib
from pathlib import Path
from typing import Any

import yaml  # PyYAML (vcrpy's own YAML library)

from . import __version__
from .errors import CassetteError, ReplayMismatchError
from .recording import redact_token
from .redact import Redactor

__all__ = ["FORMAT", "SmtpTranscript", "transcript_path"]

FORMAT = "o365check-smtp-transcript/1"
PLACEHOLDER_DATE = "Sat, 01 Jan 2000 00:00:00 +0000"
PLACEHOLDER_MESSAGE_ID = "<o365check-redacted@o365check.localhost>"
_DATE = re.compile(r"(?im)^(Date:)[^\r\n]*")
_MESSAGE_ID = re.compile(r"(?im)^(Message-ID:)[^\r\n]*")


def transcript_path(cassette: str | Path) -> Path:
    """``doctor.yaml`` -> ``doctor.smtp.yaml`` (beside the HTTP cassette)."""
    path = Path(cassette)
    return path.with_name(path.stem + ".smtp.yaml") if path.suffix in (".yaml", ".yml") else Path(f"{path}.smtp.yaml")


class SmtpTranscript:
    """One transcript file, recording (``replaying`` False) or replaying (True)."""

    def __init__(self, path: str | Path, *, replaying: bool, redactor: Redactor | None = None) -> None:
        self.path = Path(path)
        self.replaying = replaying
        self.redactor = redactor or Redactor()
        self.metadata: dict[str, Any] = {}
        self.dialogue: list[dict[str, Any]] = []
        self._position = 0
        if replaying:
            self._load()

    def __repr__(self) -> str:
        mode = "replaying" if self.replaying else "recording"
        return f"SmtpTranscript({str(self.path)!r}, {mode}, {len(self.dialogue)} entries)"

    # ------------------------------------------------------------------ file
    def _load(self) -> None:
        if not self.path.is_file():
            raise CassetteError(
                f"SMTP transcript {str(self.path)!r} does not exist; record it first (doctor --via smtp --record ...)"
            )
        try:
            document = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise CassetteError(
                f"{str(self.path)!r} is not a readable SMTP transcript ({type(exc).__name__})"
            ) from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise CassetteError(f"{str(self.path)!r} is not an SMTP transcript (format {FORMAT!r} expected)")
        self.metadata = dict(document.get("metadata") or {})
        self.dialogue = list(document.get("dialogue") or [])

    def describe(self, metadata: dict[str, Any]) -> None:
        if not self.replaying:
            self.metadata = {"recorded_with": f"o365check {__version__}", **metadata}

    def save(self) -> None:
        """Write what was recorded (a replay changes nothing)."""
        if self.replaying:
            return
        document = {"format": FORMAT, "metadata": self.metadata, "dialogue": self.dialogue}
        self.path.write_text(
            "# o365check SMTP transcript: the SMTP dialogue beside the HTTP cassette (docs/smtp.md)\n"
            + yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120),
            encoding="utf-8",
        )

    # ------------------------------------------------------------------ scrubbing
    def scrub_line(self, line: str) -> dict[str, Any]:
        """A client line as it is stored: AUTH XOAUTH2 split into user and a redacted token."""
        text = line.rstrip("\r\n")
        command, _, argument = text.partition(" ")
        if command.upper() == "AUTH" and argument.upper().startswith("XOAUTH2 "):
            return {"send": "AUTH XOAUTH2", "xoauth2": _scrub_xoauth2(argument.split(" ", 1)[1], self.redactor)}
        return {"send": self.redactor.text(text)}

    def scrub_data(self, data: bytes | str) -> str:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        text = _DATE.sub(lambda m: f"{m.group(1)} {PLACEHOLDER_DATE}", text)
        text = _MESSAGE_ID.sub(lambda m: f"{m.group(1)} {PLACEHOLDER_MESSAGE_ID}", text)
        text = text.replace("\r\n", "\n")
        if text.endswith("\n.\n"):
            text = text[:-2]
        return self.redactor.text(text)

    # ------------------------------------------------------------------ recording
    def record(self, entry: dict[str, Any]) -> None:
        if not self.replaying:
            self.dialogue.append(entry)

    # ------------------------------------------------------------------ replaying
    def next(self, kind: str, live: dict[str, Any]) -> dict[str, Any]:
        """The next recorded entry, which must be ``kind`` and (for what the client sends) equal ``live``."""
        if self._position >= len(self.dialogue):
            raise ReplayMismatchError(str(self.path), _describe(live), None, ["the transcript ends here"])
        recorded = self.dialogue[self._position]
        self._position += 1
        if kind not in recorded:
            raise ReplayMismatchError(
                str(self.path),
                _describe(live),
                _describe(recorded),
                [f"expected {kind}, recorded {next(iter(recorded))}"],
            )
        if kind in ("send", "data", "connect") and not _same(live, recorded):
            raise ReplayMismatchError(str(self.path), _describe(live), _describe(recorded), [kind])
        return recorded

    def client_class(self) -> type[smtplib.SMTP]:
        """An ``smtplib.SMTP`` that records into, or replays from, this transcript."""
        transcript = self

        class TranscribedSMTP(_ReplayingSMTP if self.replaying else _RecordingSMTP):  # type: ignore[misc]
            pass

        TranscribedSMTP.transcript = transcript
        return TranscribedSMTP


class _Dumper(yaml.SafeDumper):
    """Multi-line replies and the message as literal blocks, so a transcript reads like the dialogue."""


def _text_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not any(c in value for c in "\r\t") and value == value.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text_representer)


def _scrub_xoauth2(blob: str, redactor: Redactor) -> dict[str, str]:
    try:
        text = base64.b64decode(blob.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {"unreadable": "o365check-redacted"}
    fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
    scheme, _, token = fields.get("auth", "").partition(" ")
    return {"user": redactor.text(fields.get("user", "")), "token": f"{scheme} {redact_token(token.strip())}".strip()}


def _same(live: dict[str, Any], recorded: dict[str, Any]) -> bool:
    if "xoauth2" in live or "xoauth2" in recorded:
        # Tokens differ from run to run: the user (and that a bearer token was sent) must match.
        mine, theirs = live.get("xoauth2") or {}, recorded.get("xoauth2") or {}
        return (
            live.get("send") == recorded.get("send")
            and mine.get("user") == theirs.get("user")
            and str(mine.get("token", "")).split(" ")[0] == str(theirs.get("token", "")).split(" ")[0]
        )
    return dict(live) == {k: v for k, v in recorded.items() if k in live}


def _describe(entry: dict[str, Any]) -> str:
    if "xoauth2" in entry:
        return f"AUTH XOAUTH2 user={entry['xoauth2'].get('user', '')}"
    for key in ("send", "connect", "reply", "tls"):
        if key in entry:
            return f"{key} {entry[key]}"
    if "data" in entry:
        return "DATA (the message)"
    return str(entry)


class _RecordingSMTP(smtplib.SMTP):
    """smtplib with every line it sends and every reply it reads written to the transcript (scrubbed)."""

    transcript: SmtpTranscript
    _in_data = False

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> tuple[int, bytes]:
        self.transcript.record({"connect": getattr(self, "logical_address", f"{host}:{port}")})
        return super().connect(host, port, source_address)

    def send(self, s: Any) -> None:
        if self._in_data:
            self.transcript.record({"data": self.transcript.scrub_data(s)})
            self._in_data = False
        else:
            text = s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s)
            self.transcript.record(self.transcript.scrub_line(text))
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()
        shown = self.transcript.redactor.text(text.decode("utf-8", "replace"))
        self.transcript.record({"reply": {"code": code, "text": shown}})
        self._in_data = code == 354
        return code, text

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        reply = super().starttls(*args, **kwargs)
        if reply[0] == 220:
            self.transcript.record({"tls": str(self.sock.version())})  # type: ignore[union-attr]
        return reply


class _NoSocket:
    """Stands in for the socket during a replay: nothing is opened, nothing leaves."""

    def close(self) -> None:
        pass

    def version(self) -> str:
        return ""


class _ReplayingSMTP(smtplib.SMTP):
    """smtplib answered from the transcript: what it would send is compared with what was recorded."""

    transcript: SmtpTranscript
    _in_data = False
    replayed_tls = ""

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> tuple[int, bytes]:
        self.transcript.next("connect", {"connect": getattr(self, "logical_address", f"{host}:{port}")})
        self._host = host
        self.sock = _NoSocket()  # type: ignore[assignment]
        self.file = None
        code, msg = self.getreply()
        return code, msg

    def send(self, s: Any) -> None:
        if self._in_data:
            self._in_data = False
            self.transcript.next("data", {"data": self.transcript.scrub_data(s)})
            return
        text = s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s)
        self.transcript.next("send", self.transcript.scrub_line(text))

    def getreply(self) -> tuple[int, bytes]:
        recorded = self.transcript.next("reply", {})["reply"]
        code = int(recorded["code"])
        self._in_data = code == 354
        return code, str(recorded.get("text", "")).encode()

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("starttls"):
            raise smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server.")
        code, reply = self.docmd("STARTTLS")
        if code == 220:
            self.replayed_tls = str(self.transcript.next("tls", {})["tls"])
            self.helo_resp = self.ehlo_resp = None
            self.esmtp_features = {}
            self.does_esmtp = False
        else:
            raise smtplib.SMTPResponseException(code, reply)
        return code, reply

    def close(self) -> None:
        self.sock = None
        self.file = None
