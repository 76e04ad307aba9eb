"""One message of a conversation at a time, in the order it came.

Rasa answers a conversation's messages one after the other: a second message arriving while the
first is being answered waits in Rasa's lock store, which looks again only once a second. A customer
who sends two lines in quick succession ("alo", "đơn của tôi bị vỡ") waited a second or more for the
second answer, and the transcript could show both messages before the first answer. The gateway
queues such a message itself and sends it the moment the first is answered. A conversation always
goes to the same Rasa (bot/rasa_instances.py); Rasa's own lock stays in place for several gateways.
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Dict, Tuple


class ConversationTurns:
    def __init__(self) -> None:
        # sender -> (its lock, how many hold or wait for it): kept only while someone does, so it stays small
        self._locks: Dict[str, Tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, sender: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(sender) or (asyncio.Lock(), 0)
        self._locks[sender] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[sender]
            if users == 1:
                del self._locks[sender]
            else:
                self._locks[sender] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
