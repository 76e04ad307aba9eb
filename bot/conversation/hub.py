"""Open WebSocket connections per conversation, so replies (from the bot or a person) reach the customer live.

Channels other than the website add an outlet for their conversations (by sender
prefix, e.g. "tg-" for Telegram): `deliver` also hands the message to it, so
code that replies to a customer needs no idea of the customer's channel.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Awaitable, Callable, Dict, List, Set, Tuple

from aiohttp import web

logger = logging.getLogger(__name__)


Outlet = Callable[[str, Dict[str, Any]], Awaitable[bool]]


class Hub:
    def __init__(self) -> None:
        self._sockets: Dict[str, Set[web.WebSocketResponse]] = defaultdict(set)
        self._outlets: List[Tuple[str, Outlet]] = []
        self.fanout = None  # a RedisFanout when several gateway instances run (HOTRO_REDIS_URL)

    def add_outlet(self, sender_prefix: str, outlet: Outlet) -> None:
        """`outlet(sender, message)` also receives every message for conversations whose id starts with the prefix."""
        self._outlets.append((sender_prefix, outlet))

    def join(self, sender: str, socket: web.WebSocketResponse) -> None:
        self._sockets[sender].add(socket)

    def leave(self, sender: str, socket: web.WebSocketResponse) -> None:
        self._sockets[sender].discard(socket)
        if not self._sockets[sender]:
            self._sockets.pop(sender, None)

    def connected(self, sender: str) -> bool:
        return bool(self._sockets.get(sender))

    async def deliver_local(self, sender: str, message: Dict[str, Any], exclude=None) -> int:
        """Send to the conversation's tabs open on this instance (but `exclude`); returns how many received it."""
        delivered = 0
        for socket in list(self._sockets.get(sender, ())):
            if socket is exclude:
                continue
            try:
                await socket.send_json(message)
                delivered += 1
            except (ConnectionResetError, RuntimeError):
                self.leave(sender, socket)
        return delivered

    async def echo(self, sender: str, message: Dict[str, Any], origin) -> None:
        """The customer's own message to their other open tabs (here and on other instances), not to `origin`.

        Without it, a tab opened while a message is on its way shows the bot's answer but not the question.
        """
        await self.deliver_local(sender, message, exclude=origin)
        if self.fanout is not None:
            await self.fanout.publish(sender, message)

    async def deliver(self, sender: str, message: Dict[str, Any]) -> int:
        """Send to every open tab of the conversation (on any instance) and to its channel's outlet.

        Returns how many took it here: this instance's tabs and the outlet.
        """
        delivered = await self.deliver_local(sender, message)
        if self.fanout is not None:
            await self.fanout.publish(sender, message)
        for prefix, outlet in self._outlets:
            if sender.startswith(prefix):
                try:
                    delivered += 1 if await outlet(sender, message) else 0
                except Exception:  # one channel's trouble must not stop the others (or the caller)
                    logger.exception("delivery to the %s outlet failed", prefix)
        return delivered

