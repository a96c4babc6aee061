"""Fixtures of the response and session tests."""

from __future__ import annotations

import time

import pytest

from session_clock import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Replace time.time (the signer stamps and judges ages with it)."""
    moving = Clock()
    monkeypatch.setattr(time, "time", moving)
    return moving
