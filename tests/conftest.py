"""Shared pytest fixtures and the rule for the optional test groups (corpus, Newman, Chromium)."""

from __future__ import annotations

from typing import Any

import pytest
from corpus import IN_CI, MISSING_REASON, corpus_available


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """pytest-recording uses o365check's one scrubbing configuration."""
    from o365check.recording import vcr_config as config

    return config()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``corpus`` skip in a user's clone and fail in CI when ``../shared/corpus`` is missing."""
    if item.get_closest_marker("corpus") is not None and not corpus_available():
        if IN_CI:
            pytest.fail(f"CI=true but {MISSING_REASON}", pytrace=False)
        pytest.skip(MISSING_REASON)
