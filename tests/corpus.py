"""The one place tests find third-party files: ``../shared/corpus`` beside the clone.

The repository holds only what this project writes, so collections written by others are read from
the shared corpus, never copied in. Tests that need it carry the ``corpus`` marker; conftest's hook
skips them with one reason in a user's clone (no ``../shared``) and fails them when ``CI=true``.
Collection does not depend on the corpus being there: parametrize only over names written here.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
IN_CI = os.environ.get("CI") == "true"
MISSING_REASON = f"the shared corpus is not beside this clone ({CORPUS}); CI runs these tests"


def corpus_path(*parts: str) -> Path:
    """A path inside the corpus (only call it from a test marked ``corpus``)."""
    return CORPUS.joinpath(*parts)


def corpus_available() -> bool:
    return CORPUS.is_dir()
