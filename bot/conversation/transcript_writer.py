"""Transcript lines of many conversations, written together.

Every customer message costs the gateway two transcript writes (what the customer said, then the
bot's answer), each a transaction and a hop to a database thread. Under load many conversations
write at once: whatever arrives while a write is in progress goes into the next one, a single
transaction (ConversationService.record_batch). Alone, a write goes out at once, as before; each
caller still waits until its own lines are committed, so nothing is acknowledged unwritten.
"""
from __future__ import annotations

import asyncio
from typing import List, Optional, Tuple

from bot.services.conversations import ConversationService

MAX_BATCH = 64  # lines of this many calls at most per transaction: one slow statement must not grow unbounded


class TranscriptWriter:
    def __init__(self, conversations: ConversationService, max_batch: int = MAX_BATCH):
        self._conversations = conversations
        self._max_batch = max_batch
        self._waiting: List[Tuple[str, List[tuple], str, asyncio.Future]] = []
        self._writing = False
        self._task: Optional[asyncio.Future] = None

    async def record(self, sender: str, lines: List[tuple], channel: str) -> str:
        """Write `lines` (as ConversationService.record_many takes them); the conversation's owner.

        Raises what the database raised (SQLAlchemyError while it is down) for every call in the failed batch.
        """
        self._conversations.check_lines(lines)  # a wrong line fails its own caller, not the whole batch
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((sender, lines, channel, future))
        if not self._writing:
            self._writing = True
            self._task = asyncio.ensure_future(self._write_all())
        return await asyncio.shield(future)  # a caller that gives up does not take its lines out of the batch

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
                try:
                    owners = await asyncio.to_thread(self._conversations.record_batch,
                                                     [(sender, lines, channel) for sender, lines, channel, _ in batch])
                except Exception as exc:  # noqa: BLE001 - each caller gets it, as if it had written alone
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (*_, future), owner in zip(batch, owners):
                    if not future.done():
                        future.set_result(owner)
        finally:
            self._writing = False

    async def close(self) -> None:
        """Let the writes under way finish (the gateway is stopping)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
