"""SMS: one interface, a development sender that writes to the log and to /dev/outbox.

Real gateways (Aliyun, Tencent Cloud SMS) are adapters behind `SmsSender`; none is reachable
from this machine, so none is written yet.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from backend.auth.phone import mask_phone
from backend.db import utcnow

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class DevOutboxSms:
    """Appends each message to a JSON-lines file (shared by every process on the machine)."""

    def __init__(self, path: Path, keep: int = 500) -> None:
        self.path = path
        self.keep = keep
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = asyncio.Lock()

    async def send(self, phone: str, text: str) -> None:
        record = {"to": phone, "text": text, "at": utcnow().isoformat()}
        log.info("sms (development outbox) to %s: %s", mask_phone(phone), text)
        async with self._lock:
            await asyncio.to_thread(self._append, json.dumps(record, ensure_ascii=False))

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def messages(self, to: str | None = None) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        lines: Sequence[str] = self.path.read_text("utf-8").splitlines()[-self.keep :]
        items = [json.loads(line) for line in lines if line.strip()]
        if to:
            items = [m for m in items if m["to"] == to]
        return list(reversed(items))  # newest first
