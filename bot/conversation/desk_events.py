"""What happened in conversations, pushed to the desks that are open (GET /api/events, server-sent events).

The core publishes an event whenever staff need to look again: a customer wrote
in a chat the bot does not answer, a chat was queued for a person, assigned,
claimed or handed back, a staff member replied or noted. Events name the
conversation and its owner only; a desk reads the rest through the API, so
nothing a customer wrote travels in them. With several gateway instances
(HOTRO_REDIS_URL) events go through Redis as well, like customers' messages
(bot/gateway/fanout.py), so a desk learns what happened on any instance.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional, Set

logger = logging.getLogger(__name__)

FANOUT_CHANNEL = "hotro:desk-events"
QUEUE_SIZE = 200  # events a slow desk may fall behind by before it is told to reload instead
RESYNC = {"type": "resync"}  # "you missed events: read the lists again"


class DeskEvents:
    def __init__(self) -> None:
        self._subscribers: Set[asyncio.Queue] = set()
        self.fanout = None  # a RedisFanout on FANOUT_CHANNEL when several gateway instances run

    def subscribe(self) -> asyncio.Queue:
        """A queue of events for one open desk; `None` in it means the gateway is stopping."""
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    @property
    def listeners(self) -> int:
        return len(self._subscribers)

    async def publish(self, event: Dict[str, Any]) -> None:
        """To the desks open on this instance, and through Redis to the others'."""
        await self.deliver_local("", event)
        if self.fanout is not None:
            await self.fanout.publish("", event)

    async def deliver_local(self, _sender: str, event: Dict[str, Any]) -> int:
        for queue in list(self._subscribers):
            _offer(queue, event)
        return len(self._subscribers)

    def end(self, queue: asyncio.Queue) -> None:
        """End one open stream (its desk reconnects, if it is still open)."""
        _offer(queue, None)

    def close(self) -> None:
        """End every open stream (the gateway is stopping); desks reconnect to another instance or later."""
        for queue in list(self._subscribers):
            _offer(queue, None)


def _offer(queue: asyncio.Queue, event: Optional[Dict[str, Any]]) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        # Too far behind to catch up event by event: drop what waits and ask the desk to reload its lists.
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(RESYNC if event is not None else None)
