"""A ``time.time`` the session tests move (the signer stamps and judges ages with it)."""

from __future__ import annotations

#: Where the clock starts: a whole second.
NOW = 1_760_000_000.0


class Clock:
    """A ``time.time`` the test moves."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now
