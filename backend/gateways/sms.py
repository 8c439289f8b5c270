"""SMS: one interface; a development sender that writes to /dev/outbox; in production, a
real gateway or none.

Real gateways (Aliyun, Tencent Cloud SMS) are adapters behind `SmsSender` (not written yet).
Production never uses the development outbox: without a gateway every send says it cannot
(`SmsUnavailable`), and the caller tells the person so. No sender logs a message's text
(a sign-in code in a log lets whoever reads it sign in as anyone).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from backend.db import utcnow
from backend.phones import mask_phone

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class SmsUnavailable(Exception):
    """No gateway could take the message."""


class NoSmsGateway:
    """Production without a configured gateway: nothing leaves, and every caller is told."""

    async def send(self, phone: str, text: str) -> None:
        raise SmsUnavailable("no SMS gateway is configured")


class DevOutboxSms:
    """Appends each message to a JSON-lines file (shared by every process on the machine)."""

    def __init__(self, path: Path, keep: int = 500) -> None:
        self.path = path
        self.keep = keep
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = asyncio.Lock()

    async def send(self, phone: str, text: str) -> None:
        record = {"to": phone, "text": text, "at": utcnow().isoformat()}
        log.info("sms (development outbox) to %s, %d characters", mask_phone(phone), len(text))
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
