"""Open WebSocket connections per conversation, so replies (from the bot or a person) reach the customer live."""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Dict, Set

from aiohttp import web

logger = logging.getLogger(__name__)


class Hub:
    def __init__(self) -> None:
        self._sockets: Dict[str, Set[web.WebSocketResponse]] = defaultdict(set)

    def join(self, sender: str, socket: web.WebSocketResponse) -> None:
        self._sockets[sender].add(socket)

    def leave(self, sender: str, socket: web.WebSocketResponse) -> None:
        self._sockets[sender].discard(socket)
        if not self._sockets[sender]:
            self._sockets.pop(sender, None)

    def connected(self, sender: str) -> bool:
        return bool(self._sockets.get(sender))

    async def deliver(self, sender: str, message: Dict[str, Any]) -> int:
        """Send to every open tab of the conversation; returns how many received it."""
        delivered = 0
        for socket in list(self._sockets.get(sender, ())):
            try:
                await socket.send_json(message)
                delivered += 1
            except (ConnectionResetError, RuntimeError):
                self.leave(sender, socket)
        return delivered


HUB = web.AppKey("hub", Hub)
