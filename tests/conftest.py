"""Shared pytest fixtures and the rule for the optional test groups (corpus, Newman, Chromium)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from corpus import IN_CI, MISSING_REASON, corpus_available

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_REASON = f"{CHROMIUM} is not installed (apt-get install -y chromium, as .ci/run does); CI runs these tests"


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """pytest-recording uses o365check's one scrubbing configuration."""
    from o365check.recording import vcr_config as config

    return config()


pytest_plugins = ["pytester"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The optional groups skip, each with one reason, in a user's clone; with ``CI=true`` they fail instead.

    ``corpus`` needs the shared corpus (tests/corpus.py finds it); ``browser`` needs Debian's Chromium. (``newman`` tests ask
    ``newman_support.need_newman()``, which follows the same rule.)
    """
    missing = None
    if item.get_closest_marker("corpus") is not None and not corpus_available():
        missing = MISSING_REASON
    elif item.get_closest_marker("browser") is not None and not CHROMIUM.exists():
        missing = CHROMIUM_REASON
    if missing is not None:
        if IN_CI:
            pytest.fail(f"CI=true but {missing}", pytrace=False)
        pytest.skip(missing)
