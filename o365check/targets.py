"""Where the checks go (live, sandbox, replay): kept importable here; the decision lives in
:mod:`o365check.transport.target`."""

from __future__ import annotations

from .transport.target import Target, open_target

__all__ = ["Target", "open_target"]
