"""Asterisk's manager interface (AMI), through panoramisk: Linli asks the exchange to place a
call (Originate, asynchronously) into the dialplan context that bridges it to the line's
AudioSocket with the call's id (docs/voice.md has the dialplan)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from panoramisk import Manager

from backend.phones import national

log = logging.getLogger(__name__)


class OriginateRefused(Exception):
    """The exchange did not queue the call (down, refused the login, or the action)."""


class AmiOriginator:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        channel: str,
        context: str,
        caller_id: str,
        timeout_s: float,
        ring_s: float = 45.0,
    ) -> None:
        self.channel = channel  # "PJSIP/{number}@trunk": where the number is dialled
        self.context = context
        self.caller_id = caller_id
        self.timeout_s = timeout_s
        self.ring_s = ring_s
        self._config = {"host": host, "port": port, "username": username, "secret": secret, "ping_delay": 30}
        self._manager: Any = None
        self._lock = asyncio.Lock()

    async def _ready(self) -> Any:
        """A logged-in manager connection, made on first use and again after it broke."""
        async with self._lock:
            if self._manager is not None and self._manager.authenticated and self._manager.protocol is not None:
                return self._manager
            if self._manager is not None:
                self._manager.close()
            manager = Manager(loop=asyncio.get_running_loop(), events="off", **self._config)
            manager.connect()
            deadline = time.monotonic() + self.timeout_s
            while not manager.authenticated:
                if time.monotonic() > deadline:
                    manager.close()
                    raise OriginateRefused("no AMI login")
                await asyncio.sleep(0.02)
            self._manager = manager
            return manager

    async def originate(self, number: str, call_id: str) -> None:
        """Queued when this returns: the exchange rings `number` and, answered, connects it to
        the line with `call_id` in LINLI_CALL."""
        try:
            manager = await self._ready()
            answer = await asyncio.wait_for(
                manager.send_action(
                    {
                        "Action": "Originate",
                        "Channel": self.channel.format(number=national(number)),
                        "Context": self.context,
                        "Exten": "s",
                        "Priority": "1",
                        "CallerID": self.caller_id,
                        "Timeout": str(int(self.ring_s * 1000)),
                        "Variable": f"LINLI_CALL={call_id}",
                        "Async": "true",
                    },
                    as_list=False,  # the answer that it is queued, not the call's end
                ),
                self.timeout_s,
            )
        except OriginateRefused:
            raise
        except (TimeoutError, OSError) as exc:
            raise OriginateRefused(type(exc).__name__) from exc
        if not answer.success:
            raise OriginateRefused(str(answer.get("Message", "refused")))

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
            self._manager = None
