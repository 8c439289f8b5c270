"""Online payment: the interface a real gateway (WeChat Pay, Alipay, UnionPay) will adapt.

Development has a stand-in that approves every charge and writes it to
`var/dev-payments.jsonl`; production has none until an adapter exists, and online top-ups
are refused with a clear error (cash at the service centre still works)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Protocol

from backend.db import utcnow


class PaymentGateway(Protocol):
    async def charge(self, *, payer_id: int, amount_fen: int, idempotency_key: str, purpose: str) -> str:
        """Take the money, or raise; the gateway's reference for the charge."""
        ...


class DevPaymentGateway:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def charge(self, *, payer_id: int, amount_fen: int, idempotency_key: str, purpose: str) -> str:
        reference = f"dev-{uuid.uuid4().hex[:12]}"
        line = {
            "at": utcnow().isoformat(),
            "payer_id": payer_id,
            "amount_fen": amount_fen,
            "key": idempotency_key,
            "purpose": purpose,
            "reference": reference,
        }
        await asyncio.to_thread(self._append, json.dumps(line, ensure_ascii=False))
        return reference

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
