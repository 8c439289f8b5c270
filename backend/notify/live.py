"""Live fan-out to open subscriptions (GraphQL over WebSocket).

Only a live view: what is published here is already stored in the database, so a client
that was not connected reads it on its next query. Embedded mode fans out in-process; in
distributed mode each process listens to one Redis pattern subscription and fans out to
its own subscribers, so an event handled by a worker reaches a socket held by any replica.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)

QUEUE_LIMIT = 100  # a subscriber that falls this far behind loses the oldest messages


class LiveFanout:
    def __init__(self, redis: Any = None, prefix: str = "linli") -> None:
        self._redis = redis
        self._pattern_prefix = f"{prefix}:live:"
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._listener: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        if self._redis is None:
            self._deliver(channel, message)
            return
        try:
            await self._redis.publish(self._pattern_prefix + channel, json.dumps(message))
        except Exception:
            # Only a live view or a hint: the database holds what was published.
            log.warning("live message not published (Redis unavailable)", exc_info=True)

    def _deliver(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    async def subscribe(self, *channels: str) -> AsyncIterator[dict[str, Any]]:
        """Messages published to any of `channels`, in arrival order."""
        self._ensure_listener()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        for channel in channels:
            self._subscribers.setdefault(channel, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            for channel in channels:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(queue)
                    if not subscribers:
                        self._subscribers.pop(channel, None)

    def _ensure_listener(self) -> None:
        if self._redis is not None and (self._listener is None or self._listener.done()):
            self._listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.psubscribe(self._pattern_prefix + "*")
                async for item in pubsub.listen():
                    if item.get("type") != "pmessage":
                        continue
                    channel = item["channel"]
                    channel = channel.decode() if isinstance(channel, bytes) else channel
                    self._deliver(channel[len(self._pattern_prefix) :], json.loads(item["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live fan-out lost Redis; reconnecting", exc_info=True)
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None


def person_channel(person_id: int) -> str:
    return f"person:{person_id}"
