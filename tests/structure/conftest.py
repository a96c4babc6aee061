"""Fixtures for the structure tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_app_logger() -> Iterator[None]:
    """Loggers are global by name: undo what a test did to the ``kettle_test`` app's logger."""
    logger = logging.getLogger("kettle_test")
    saved = (logger.disabled, logger.propagate, list(logger.handlers))
    logger.disabled = False
    yield
    logger.disabled, logger.propagate, logger.handlers[:] = saved[0], saved[1], saved[2]
