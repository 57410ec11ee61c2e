"""Files a collection may read (form-data files, binary bodies): confined, regular, bounded.

Like Newman's ``--working-dir`` and ``--no-insecure-file-read``, but safe by default: a
collection reads files only under its working directory (default: the collection's folder), a
symlink that leads out of it is refused, and so is anything that is not a regular file (devices
such as ``/dev/zero``, FIFOs, sockets, directories) or is larger than :data:`MAX_FILE_BYTES`.
``--insecure-file-read`` lifts the confinement to the working directory (the other checks stay):
the egress rule still stops a secret read from a file (``/proc/self/environ``...) at the wire.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import UsageError

__all__ = ["MAX_FILE_BYTES", "FileReadRefused", "read_body_file"]

MAX_FILE_BYTES = 64 * 1024 * 1024  # a request body; far above any mail attachment Graph accepts in one call


class FileReadRefused(UsageError):
    """A collection asked for a file it may not read."""


def read_body_file(src: str, working_dir: Path, *, insecure: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``src`` (relative to ``working_dir``); ``FileReadRefused`` or ``OSError`` otherwise."""
    base = working_dir.resolve()
    path = Path(src)
    if not path.is_absolute():
        path = base / path
    real = path.resolve(strict=True)  # every symlink followed: judged where it really leads
    if not insecure and not real.is_relative_to(base):
        via = "" if real == path else f" (it leads to {str(real)!r})"
        raise FileReadRefused(
            f"refused to read {src!r} for a request body: it is outside the working directory {str(base)!r}{via}; "
            "pass --working-dir DIR to read from another folder, or --insecure-file-read to allow any path"
        )
    # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: no symlink swapped in since.
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FileReadRefused(
                f"refused to read {src!r} for a request body: it is not a regular file (a device, FIFO, socket "
                "or directory)"
            )
        data = handle.read(limit + 1)  # /proc files report size 0: the read itself is bounded
    if len(data) > limit or info.st_size > limit:
        raise FileReadRefused(
            f"refused to read {src!r} for a request body: it is larger than the limit of {limit // (1024 * 1024)} MiB"
        )
    return data
