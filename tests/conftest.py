"""Shared pytest fixtures."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """pytest-recording uses o365check's one scrubbing configuration."""
    from o365check.recording import vcr_config as config

    return config()
