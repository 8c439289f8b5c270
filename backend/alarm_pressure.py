"""Alarms come first, across processes: the alarm desk marks that alarms are being stored (a
file's modification time in the var dir, seen by every process on the machine), and the
chores' process waits for a quiet moment before it takes its next job. On SQLite there is one
writer for the whole machine: a chore's write that starts while a burst of presses is being
stored makes them wait for it."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

MARK_EVERY_S = 0.2  # a burst marks the file a few times a second, not once a press


class AlarmPressure:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._marked = 0.0

    def mark(self) -> None:
        """Alarms are being stored now."""
        now = time.monotonic()
        if now - self._marked < MARK_EVERY_S:
            return
        self._marked = now
        try:
            self.path.touch()
        except OSError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()

    def quiet_for(self) -> float:
        """Seconds since alarms were last stored (a long time if never)."""
        try:
            return max(0.0, time.time() - os.stat(self.path).st_mtime)
        except FileNotFoundError:
            return float("inf")

    async def wait_quiet(self, quiet_s: float, longest_s: float) -> None:
        """Until no alarm has been stored for `quiet_s`, or `longest_s` have passed."""
        deadline = time.monotonic() + longest_s
        # Another process marks the file: polling it is the only way to see.
        while (since := self.quiet_for()) < quiet_s and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(min(quiet_s - since, max(0.0, deadline - time.monotonic())) + 0.01)
