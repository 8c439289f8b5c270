"""Live fan-out to open subscriptions (GraphQL over WebSocket).

Only a live view: what is published here is already stored in the database, so a client
that was not connected reads it on its next query. Embedded mode fans out in-process; in
distributed mode each process listens to one Redis pattern subscription and fans out to
its own subscribers, so an event handled by a worker reaches a socket held by any replica.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from backend.db import carried_by

log = logging.getLogger(__name__)

Message = tuple[str, dict[str, Any]]  # (channel, message)

QUEUE_LIMIT = 100  # a subscriber that falls this far behind loses the oldest messages
MESSAGE_ID = "mid"  # one message published to several channels carries one id


class LiveFanout:
    def __init__(self, redis: Any = None, prefix: str = "linli") -> None:
        self._redis = redis
        self._pattern_prefix = f"{prefix}:live:"
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self.publish_many([(channel, message)])

    async def publish_many(self, messages: Iterable[Message]) -> None:
        """In one round trip to Redis (a burst of alarms tells a thousand people at once)."""
        if self._redis is None:
            for channel, message in messages:
                self._deliver(channel, message)
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, message in messages:
                    pipe.publish(self._pattern_prefix + channel, json.dumps(message))
                await pipe.execute()
        except Exception:
            # Only a live view or a hint: the database holds what was published.
            log.warning("live message not published (Redis unavailable)", exc_info=True)

    def published(self, messages: list[Message]) -> None:
        """From a commit hook: publish without waiting (the caller cannot await)."""
        if self._redis is None:
            for channel, message in messages:
                self._deliver(channel, message)
            return
        task = asyncio.get_running_loop().create_task(self.publish_many(messages))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    def _deliver(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    async def subscribe(self, *channels: str) -> AsyncGenerator[dict[str, Any], None]:
        """Messages published to any of `channels`, in arrival order, each once: a message
        published to two of them (a grid worker is told as a responder and as staff of the
        community) arrives once."""
        self._ensure_listener()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        for channel in channels:
            self._subscribers.setdefault(channel, set()).add(queue)
        seen: deque[str] = deque(maxlen=QUEUE_LIMIT)
        try:
            while True:
                message = await queue.get()
                mid = message.get(MESSAGE_ID)
                if mid is not None:
                    if mid in seen:
                        continue
                    seen.append(mid)
                    message = {k: v for k, v in message.items() if k != MESSAGE_ID}
                yield message
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
        await asyncio.gather(*self._publishing, return_exceptions=True)
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None


def person_channel(person_id: int) -> str:
    return f"person:{person_id}"


SESSIONS_ENDED = "signed_out"


def session_channel(subject: str) -> str:
    """Where a token's subject ("person:1", "tv:5") hears that its sessions ended: open
    sockets signed in with an ended session close."""
    return f"session:{subject}"


def sessions_end(
    session: AsyncSession, subject: str, *, before: dt.datetime | None = None, family: str | None = None
) -> None:
    """Once committed, tell `subject`'s open sockets their sessions ended: those of one refresh
    chain (`family`), those signed in before `before`, or (neither given) all of them."""
    message: dict[str, Any] = {"kind": SESSIONS_ENDED}
    if family is not None:
        message["family"] = family
    elif before is not None:
        message["before"] = before.isoformat()
    after_commit(session, [(session_channel(subject), message)])


def box_channel(device_id: int) -> str:
    """A set-top box's live connection: the messages shown on its screen (the tv path)."""
    return f"box:{device_id}"


def orders_channel(person_id: int) -> str:
    """An elder's orders and bookings, whoever placed them: what their family follows."""
    return f"orders:{person_id}"


def after_commit(session: AsyncSession, messages: Iterable[Message]) -> None:
    """Publish once the session's transaction has committed: a subscriber that reads the row
    a message names must find it (published earlier, it could read before the commit).
    The same message object sent to several channels gets one id, so a subscriber listening
    on more than one of them sees it once."""
    pending = session.info.setdefault("linli.live", [])
    for channel, message in messages:
        message.setdefault(MESSAGE_ID, uuid.uuid4().hex[:16])
        pending.append((channel, message))


@event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released; wait for the real commit
    messages = session.info.pop("linli.live", None)
    parts = carried_by(session)
    if messages and parts is not None:  # no process's parts (a script): nobody listens
        parts.live.published(messages)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop("linli.live", None)
