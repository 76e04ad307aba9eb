"""Sending to Telegram without losing messages: kept in the database, in order per chat, retried for a day.

Callers (the hub, staff API requests) must not wait for a Telegram outage, so a
send becomes a row of telegram_outbox and a task per chat sends the chat's rows
in order. Network errors, timeouts, Telegram 5xx and flood control are retried
with capped back-off until GIVE_UP_AFTER; a refusal (bad request, bot blocked,
bad token) is not, because it would fail the same way again. A gateway that
stops or crashes leaves its rows in the database, and the next start (or another
gateway on the same database) sends them. What must follow a send (a staff card
learning its message id) is data in the row, so it survives a restart too.

Delivery is at least once: a gateway that dies after Telegram accepted a message
but before recording it sends that message again once its lease has expired. A
lease held by a process that is gone from this machine is not waited out: the
chat's replies would all queue behind it for the lease's two minutes.
Button-press answers only matter for seconds, so they stay in memory.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Awaitable, Callable, Dict, Optional, Set

from telegram import InlineKeyboardMarkup, ReplyParameters, TelegramObject
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.channels.telegram.outbox_store import Job, OutboxStore
from bot.store.models import utcnow

logger = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
METHODS = ("send_message", "edit_message_text")  # what a stored row may call
OBJECTS = {"reply_markup": InlineKeyboardMarkup, "reply_parameters": ReplyParameters}  # stored as Bot API JSON
REFUSALS = (BadRequest, Forbidden, InvalidToken)
CALLBACK_DELAYS = (0.5, 1.0, 2.0)
BLOCKED, REFUSED, UNREACHABLE = "blocked", "refused", "unreachable"  # why a send was given up  # a button's spinner is only worth answering for a few seconds

Send = Callable[[], Awaitable[object]]


def process_space() -> str:
    """This machine and PID namespace: where a lease holder's pid means something (a container has its own)."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()[:30]}/{namespace}"


def holder_is_gone(owner: str, here: str) -> bool:
    """Whether the lease holder `owner` (process_space:pid:nonce) is a process of this machine that no longer runs."""
    space, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if space != here or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    return False  # alive, or its pid reused: the lease runs out as usual


def backoff_delays(first: float = 0.5, factor: float = 2.0, cap: float = 30.0, attempts: int = 10):
    """Delays before each retry: 0.5, 1, 2, 4 … capped, `attempts - 1` of them."""
    delay = first
    for _ in range(attempts - 1):
        yield min(delay, cap)
        delay *= factor


async def send_with_retry(send: Send, what: str = "message", delays=None) -> Optional[object]:
    """The result of `send()`, retried in memory on transient errors; None when given up (callback answers)."""
    waits = iter(delays if delays is not None else backoff_delays())
    while True:
        try:
            return await send()
        except REFUSALS as exc:
            logger.error("Telegram refused a %s: %s", what, type(exc).__name__)
            return None
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx, RetryAfter
            delay = next(waits, None)
            if delay is None:
                break
            await asyncio.sleep(max(_retry_after(exc), delay))
    logger.error("gave up sending a Telegram %s after repeated failures", what)
    return None


@dataclass(frozen=True)
class Timing:
    """Back-off and lease, in seconds of the outbox's clock."""

    first: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    give_up_after: float = GIVE_UP_AFTER.total_seconds()
    lease: float = 120.0  # well over one send (HTTP timeouts 5 + 15 s), so a slow send is not taken over
    scan_every: float = 5.0  # how often rows no task is working on (restart, another gateway gone) are looked for

    def delay(self, attempts: int) -> float:
        return min(self.cap, self.first * self.factor ** max(0, attempts - 1))


class Clock:
    """Time for the rows and for waiting; tests use a faster one instead of waiting for real."""

    def now(self) -> datetime:
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Outbox:
    def __init__(self, store: OutboxStore, bot, timing: Timing = Timing(), clock: Clock = None, owner: str = None):
        self.store = store
        self.bot = bot
        self.timing = timing
        self.clock = clock or Clock()
        # Who holds a lease: unique per process, readable by whoever looks at the table.
        self.owner = owner or f"{process_space()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._chats: Dict[int, asyncio.Task] = {}
        self._resting: Set[int] = set()  # chats waiting for their next attempt (holding no lease)
        self._answers: Set[asyncio.Task] = set()
        self._scanner: Optional[asyncio.Task] = None
        self._flushing = False
        # Told (chat id, BLOCKED | REFUSED | UNREACHABLE) when a send is given up, so staff learn
        # that the customer never got their reply.
        self.on_failed: Optional[Callable[[int, str], Awaitable[None]]] = None

    # -- queueing ------------------------------------------------------------------------

    async def put(self, chat_id: int, method: str, what: str = "message", card_id: Optional[int] = None,
                  **params: Any) -> None:
        """Queue `bot.<method>(chat_id=chat_id, **params)` after everything queued for the chat.

        `card_id`: the staff card this message is, which learns its message id once sent.
        """
        stored = encode(method, params)
        await asyncio.to_thread(self.store.add, chat_id, method, stored, what, card_id, self.clock.now())
        self._wake(chat_id)

    def answer_callback(self, query_id: str, **params: Any) -> None:
        """Answer a button press, best effort and in memory: after a few seconds nobody is waiting for it."""
        task = asyncio.create_task(send_with_retry(
            partial(self.bot.answer_callback_query, query_id, **params), "callback answer", CALLBACK_DELAYS))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start sending, beginning with what is pending in the database (once Telegram is reachable)."""
        if self._scanner is None:
            self._scanner = asyncio.create_task(self._scan_forever())

    async def flush(self, timeout: float = 10.0) -> None:
        """Give what can go now a bounded time (the gateway is stopping); the rest stays in the database."""
        self._flushing = True
        for chat_id in list(self._resting):  # waiting out an outage: nothing to wait for
            task = self._chats.get(chat_id)
            if task is not None:
                task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                tasks = [t for t in (*self._chats.values(), *self._answers) if not t.done()]
                if not tasks or loop.time() >= deadline:
                    return
                await asyncio.wait(tasks, timeout=deadline - loop.time())
        finally:
            self._flushing = False

    async def close(self) -> None:
        """Stop sending and hand this process's claimed rows back for the next start or another gateway."""
        tasks = [t for t in (self._scanner, *self._chats.values(), *self._answers) if t is not None]
        self._scanner = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.to_thread(self.store.release, self.owner)
        except Exception:  # the leases expire by themselves
            logger.exception("Telegram outbox: could not release claimed sends")

    # -- sending -------------------------------------------------------------------------

    def _wake(self, chat_id: int) -> None:
        if self._scanner is None:
            return  # not started: start() finds the row
        task = self._chats.get(chat_id)
        if task is None or task.done():
            self._chats[chat_id] = asyncio.create_task(self._drain(chat_id))

    async def _drain(self, chat_id: int) -> None:
        lease = timedelta(seconds=self.timing.lease)
        try:
            while True:
                job = await asyncio.to_thread(self.store.claim_next, chat_id, self.owner, self.clock.now(), lease)
                if job is None:
                    return  # nothing due, or another gateway has it
                delay = await self._attempt(job)
                if delay is None:
                    continue
                if self._flushing:
                    return
                self._resting.add(chat_id)
                try:
                    await self.clock.sleep(delay)
                finally:
                    self._resting.discard(chat_id)
        except Exception:  # the database is struggling: the scan resumes this chat
            logger.exception("Telegram outbox: sending to a chat stopped")
        finally:
            if self._chats.get(chat_id) is asyncio.current_task():
                del self._chats[chat_id]

    async def _attempt(self, job: Job) -> Optional[float]:
        """Seconds until the chat's next attempt; None when the job is finished (sent, or failed for good)."""
        try:
            result = await getattr(self.bot, job.method)(chat_id=job.chat_id, **decode(job.params, self.bot))
        except REFUSALS as exc:
            logger.error("Telegram refused a %s (outbox %s): %s", job.what, job.id, type(exc).__name__)
            await self._fail(job, _describe(exc), BLOCKED if isinstance(exc, Forbidden) else REFUSED)
            return None
        except TelegramError as exc:
            return await self._retry(job, exc)
        except Exception as exc:  # a row this code cannot send: it would fail the same way again
            logger.exception("Telegram outbox %s (%s) cannot be sent", job.id, job.what)
            await self._fail(job, type(exc).__name__, REFUSED)
            return None
        message_id = getattr(result, "message_id", None)
        if not await asyncio.to_thread(self.store.mark_sent, job.id, self.owner, self.clock.now(), message_id):
            logger.warning("Telegram outbox %s was sent after its lease had passed to another gateway", job.id)
        return None

    async def _fail(self, job: Job, error: str, why: str) -> None:
        await asyncio.to_thread(self.store.mark_failed, job.id, self.owner, error)
        if self.on_failed is not None:
            try:
                await self.on_failed(job.chat_id, why)
            except Exception:  # the row is marked failed either way
                logger.exception("Telegram outbox: reporting a failed send")

    async def _retry(self, job: Job, exc: TelegramError) -> Optional[float]:
        now = self.clock.now()
        if now - job.created_at >= timedelta(seconds=self.timing.give_up_after):
            logger.error("gave up sending a Telegram %s (outbox %s) after %s attempts: %s",
                         job.what, job.id, job.attempts, type(exc).__name__)
            await self._fail(job, _describe(exc), UNREACHABLE)
            return None
        delay = _retry_after(exc) or self.timing.delay(job.attempts)
        if job.attempts == 1 or job.attempts % 30 == 0:  # an outage of hours must not flood the log
            logger.warning("Telegram %s failed (%s, attempt %s); retrying in %.1fs",
                           job.what, type(exc).__name__, job.attempts, delay)
        await asyncio.to_thread(self.store.retry_later, job.id, self.owner, now + timedelta(seconds=delay),
                                _describe(exc))
        return delay

    async def _scan_forever(self) -> None:
        cleaned: Optional[datetime] = None
        while True:
            try:
                now = self.clock.now()
                if cleaned is None or now - cleaned > timedelta(days=1):
                    await asyncio.to_thread(self.store.forget_sent, now)
                    cleaned = now
                if not self._flushing:
                    await self._take_over_from_dead_gateways(now)
                    for chat_id in await asyncio.to_thread(self.store.due_chats, now):
                        self._wake(chat_id)
            except Exception:  # the database may be briefly unavailable; try again next round
                logger.exception("Telegram outbox: looking for pending sends failed")
            await self.clock.sleep(self.timing.scan_every)


    async def _take_over_from_dead_gateways(self, now: datetime) -> None:
        here = process_space()
        for holder in await asyncio.to_thread(self.store.lease_holders, now):
            if holder_is_gone(holder, here):
                logger.warning("Telegram outbox: taking over the sends of a gateway that died (%s)", holder)
                await asyncio.to_thread(self.store.release, holder)


def encode(method: str, params: Dict[str, Any]) -> Dict[str, Any]:
    """Keyword arguments as JSON for the row; refused here, not at send time, when they cannot be stored."""
    if method not in METHODS:
        raise ValueError(f"the outbox does not send {method}")
    stored = {}
    for key, value in params.items():
        if isinstance(value, TelegramObject):
            if key not in OBJECTS:
                raise ValueError(f"the outbox cannot store {key}")
            value = value.to_dict()
        if value is not None:
            stored[key] = value
    return stored


def decode(params: Dict[str, Any], bot) -> Dict[str, Any]:
    return {key: OBJECTS[key].de_json(value, bot) if key in OBJECTS else value for key, value in params.items()}


def _retry_after(exc: TelegramError) -> float:
    if not isinstance(exc, RetryAfter):
        return 0.0
    wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def _describe(exc: TelegramError) -> str:
    """For last_error: Telegram's own reason for a refusal, only the kind otherwise (network errors can carry URLs)."""
    if isinstance(exc, REFUSALS) and not isinstance(exc, InvalidToken):
        return f"{type(exc).__name__}: {exc.message}"[:200]
    return type(exc).__name__
