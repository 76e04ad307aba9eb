"""Transcript lines the database could not take: kept in order, written once it is back.

A database outage must not silence the bot or lose what was said. Rasa keeps
its own history, so the customer still gets answers; the lines meant for the
transcript wait here, per conversation and in order, with the time they were
said, and a background task writes them when the database answers again. While
a conversation has lines waiting, its new lines queue behind them, so the
transcript never comes out of order. Held in memory and bounded: a gateway that
stops during an outage loses what is still waiting (the log says how much).
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import datetime
from typing import List, Optional, Tuple

from bot.services.conversations import ConversationService
from bot.store.models import utcnow

logger = logging.getLogger(__name__)

MAX_LINES = 20000  # about a busy hour of chats; past it the oldest conversation's lines are dropped


class TranscriptBacklog:
    def __init__(self, conversations: ConversationService, retry_every: float = 2.0, max_lines: int = MAX_LINES):
        self._conversations = conversations
        self._retry_every = retry_every
        self._max_lines = max_lines
        self._waiting: "OrderedDict[str, Tuple[str, List[tuple]]]" = OrderedDict()  # sender -> (channel, lines)
        self._task: Optional[asyncio.Task] = None

    def __len__(self) -> int:
        return sum(len(lines) for _, lines in self._waiting.values())

    def has(self, sender: str) -> bool:
        return sender in self._waiting

    def add(self, sender: str, channel: str, lines: List[tuple], at: Optional[datetime] = None) -> None:
        when = at or utcnow()
        _, waiting = self._waiting.setdefault(sender, (channel, []))
        waiting.extend((*line[:4], when) for line in lines)
        while len(self) > self._max_lines and self._waiting:
            dropped, (_, lost) = self._waiting.popitem(last=False)
            logger.error("transcript backlog full: %d line(s) of conversation %s dropped", len(lost), dropped[:8])
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        logger.warning("database unavailable: transcript lines wait in memory (%d so far)", len(self))
        while self._waiting:
            sender, (channel, lines) = next(iter(self._waiting.items()))
            try:
                await asyncio.to_thread(self._conversations.record_many, sender, list(lines), channel)
            except Exception as exc:  # still down
                logger.debug("database still unavailable: %s", type(exc).__name__)
                await asyncio.sleep(self._retry_every)
                continue
            # Lines added while writing stay for the next round.
            current = self._waiting.get(sender)
            if current is not None:
                del current[1][:len(lines)]
                if not current[1]:
                    del self._waiting[sender]
        logger.warning("database back: the waiting transcript lines are written")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._waiting:
            logger.error("gateway stopping with %d transcript line(s) not written (database unavailable)", len(self))
