"""Reading and writing the files a user names (collections, environments, data, .env, cassettes,
reports, exports) without hanging, running out of memory or destroying what is there.

Reading: only regular files (a FIFO would block forever, ``/dev/zero`` never ends), opened with
``O_NONBLOCK`` so even a FIFO swapped in after the check cannot block the open, checked with
``fstat`` on the open descriptor (no race with the name), and never more than a size limit.

Writing: the exports hold a run's variables, so they are created ``0600``. A path that names an
existing regular file (or a symlink to one) is replaced atomically: the text goes to a temporary
file beside the real file, then ``os.replace``. Anything else that exists (a FIFO, a device, a
directory, a symlink to one) is refused: o365check never removes or replaces what the user named
if it is not a regular file. A full disk or a read-only directory is an error naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import UsageError

__all__ = [
    "MAX_INPUT_BYTES",
    "UserFileError",
    "open_private_text",
    "open_user_file",
    "read_user_bytes",
    "writable_target",
    "write_private_text",
]

# Collections and environments are kilobytes; the biggest public ones are a few MB.
MAX_INPUT_BYTES = 64 * 1024 * 1024


class UserFileError(UsageError):
    """A file the user named cannot be read or written (exit 2)."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def open_user_file(path: str | os.PathLike[str], what: str) -> IO[bytes]:
    """A binary file object for a regular file at ``path``; ``UserFileError`` for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UserFileError(f"cannot read {what} {str(path)!r}: {_reason(exc)}") from None
    except (ValueError, UnicodeError):  # a NUL byte or a lone surrogate in the name
        raise UserFileError(f"cannot read {what} {str(path)!r}: not a usable file name") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UserFileError(f"cannot read {what} {str(path)!r}: it is {_kind(mode)}; pass a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_user_bytes(path: str | os.PathLike[str], what: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them (else ``UserFileError``)."""
    with open_user_file(path, what) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise UserFileError(f"cannot read {what} {str(path)!r}: {_reason(exc)}") from None
    if len(data) > limit:
        raise UserFileError(
            f"cannot read {what} {str(path)!r}: larger than {limit // (1024 * 1024)} MiB; is it the right file?"
        )
    return data


def writable_target(path: str | os.PathLike[str], what: str) -> Path:
    """The real file to replace: ``path`` itself, or what its symlink points to; refuse non-files."""
    given = Path(path)
    try:
        info = given.stat()  # follows symlinks
    except FileNotFoundError:
        if given.is_symlink():
            raise UserFileError(f"cannot write {what} {str(path)!r}: a symlink to nowhere; remove it first") from None
        return given
    except OSError as exc:
        raise UserFileError(f"cannot write {what} {str(path)!r}: {_reason(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserFileError(
            f"cannot write {what} {str(path)!r}: it is {_kind(info.st_mode)}; o365check only replaces regular "
            "files (pass a file path)"
        )
    return given.resolve()


@contextmanager
def open_private_text(path: str | os.PathLike[str], what: str) -> Iterator[IO[str]]:
    """A text stream whose content replaces ``path`` atomically (mode 0600) when the block ends
    without an error; on an error the temporary file is removed and ``path`` is untouched."""
    target = writable_target(path, what)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as exc:
        raise UserFileError(f"cannot write {what} {str(path)!r}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except OSError as exc:
        _remove(temporary)
        full = exc.errno == errno.ENOSPC
        raise UserFileError(
            f"cannot write {what} {str(path)!r}: {'the disk is full' if full else _reason(exc)}"
        ) from None
    except BaseException:
        _remove(temporary)
        raise


def write_private_text(path: str | os.PathLike[str], text: str, what: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only."""
    with open_private_text(path, what) as handle:
        handle.write(text)


def _remove(temporary: str) -> None:
    try:
        os.unlink(temporary)
    except OSError:
        pass
