"""Messages for customers across several gateway instances, through Redis publish/subscribe.

A customer's WebSocket is open on one gateway instance, but the staff reply or
the bot's handback may be produced on another. With HOTRO_REDIS_URL set, every
delivery is also published; each instance hands what the others published to
its own open sockets. Channel outlets (Telegram) are not repeated: the instance
that delivers calls them once.
"""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional

import redis.asyncio as redis

logger = logging.getLogger(__name__)

CHANNEL = "hotro:deliver"
LocalDelivery = Callable[[str, Dict[str, Any]], Awaitable[int]]


class RedisFanout:
    def __init__(self, url: str, deliver_local: LocalDelivery, channel: str = CHANNEL):
        self._url = url
        self._channel = channel  # one instance per kind of message: customers' deliveries, desk events
        self._deliver_local = deliver_local
        self.origin = uuid.uuid4().hex
        self._client: Optional[redis.Redis] = None
        self._task: Optional[asyncio.Task] = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._client = redis.from_url(self._url)
        self._task = asyncio.create_task(self._listen())
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout=5)
        except asyncio.TimeoutError:
            logger.error("Redis fan-out not subscribed yet; other instances' messages arrive once it is")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._client:
            await self._client.close()

    async def publish(self, sender: str, message: Dict[str, Any]) -> None:
        payload = json.dumps({"origin": self.origin, "sender": sender, "message": message}, ensure_ascii=False)
        try:
            await self._client.publish(self._channel, payload)
        except (redis.RedisError, OSError) as exc:
            # This instance's sockets already have it; the transcript keeps it for the others' reload.
            logger.error("Redis fan-out publish failed: %s", type(exc).__name__)

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                delay = 0.5
                async for item in pubsub.listen():
                    if item.get("type") != "message":
                        continue
                    await self._handle(item.get("data"))
            except asyncio.CancelledError:
                await pubsub.close()
                raise
            except (redis.RedisError, OSError) as exc:
                logger.error("Redis fan-out lost (%s); reconnecting in %.1fs", type(exc).__name__, delay)
                await pubsub.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    async def _handle(self, raw: Any) -> None:
        try:
            data = json.loads(raw)
            if data.get("origin") == self.origin:
                return
            await self._deliver_local(str(data["sender"]), dict(data["message"]))
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed fan-out message")
