"""Sending to Telegram without losing messages: in order per chat, retried with bounded back-off.

Callers (the hub, staff API requests) must not wait for a Telegram outage, so a
send is queued and a task per chat drains its queue. Network errors, Telegram
5xx and flood control are retried; a refusal (bad request, bot blocked) is not,
because it would fail the same way again. Everything sent is already in the
transcript, so even a message given up on stays visible to staff.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Awaitable, Callable, Dict, Optional

from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

logger = logging.getLogger(__name__)

Send = Callable[[], Awaitable[object]]


def backoff_delays(first: float = 0.5, factor: float = 2.0, cap: float = 30.0, attempts: int = 10):
    """Delays before each retry: 0.5, 1, 2, 4 … capped, `attempts - 1` of them (about 2.5 minutes in all)."""
    delay = first
    for _ in range(attempts - 1):
        yield min(delay, cap)
        delay *= factor


async def send_with_retry(send: Send, what: str = "message", delays=None) -> Optional[object]:
    """The result of `send()`, retried on transient errors; None when given up."""
    waits = iter(delays if delays is not None else backoff_delays())
    while True:
        try:
            return await send()
        except (BadRequest, Forbidden, InvalidToken) as exc:
            logger.error("Telegram refused a %s: %s", what, type(exc).__name__)
            return None
        except RetryAfter as exc:
            wait = exc.retry_after.total_seconds() if isinstance(exc.retry_after, timedelta) else float(exc.retry_after)
            delay = next(waits, None)
            if delay is None:
                break
            await asyncio.sleep(max(wait, delay))
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx
            delay = next(waits, None)
            if delay is None:
                break
            logger.warning("Telegram %s failed (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
    logger.error("gave up sending a Telegram %s after repeated failures", what)
    return None


class Outbox:
    def __init__(self, delays: Callable = backoff_delays):
        self._queues: Dict[int, asyncio.Queue] = {}
        self._tasks: Dict[int, asyncio.Task] = {}
        self._delays = delays

    def put(self, chat_id: int, send: Send, what: str = "message",
            done: Optional[Callable[[object], Awaitable[None]]] = None) -> None:
        """Queue `send` after everything already queued for the chat; `done(result)` runs after it."""
        queue = self._queues.setdefault(chat_id, asyncio.Queue())
        queue.put_nowait((send, what, done))
        task = self._tasks.get(chat_id)
        if task is None or task.done():
            self._tasks[chat_id] = asyncio.create_task(self._drain(chat_id, queue))

    async def _drain(self, chat_id: int, queue: asyncio.Queue) -> None:
        while not queue.empty():
            send, what, done = queue.get_nowait()
            result = await send_with_retry(send, what, self._delays())
            if done is not None:
                try:
                    await done(result)
                except Exception:
                    logger.exception("after sending a Telegram %s", what)
            queue.task_done()

    async def flush(self, timeout: float = 10.0) -> None:
        """Wait (a bounded time) for queued messages, e.g. when the gateway stops."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()
