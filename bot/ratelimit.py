"""How often one client may do something: per-client rate limits, counted in Redis or in memory.

Used by the gateway (messages, new conversations, uploads: bot/gateway/limits.py)
and by the action server (handoffs and tickets: bot/services/handoff_quota.py),
so one settings object (LimitSettings) holds every limit, read once at start.

Each limit is "N per period" with bursts allowed: a client may do N things at
once, then one more every period/N (GCRA, the token bucket's arithmetic kept as
one timestamp per client: the time at which its bucket would be full again).
With HOTRO_REDIS_URL the timestamp lives in Redis, so several gateway or action
server instances share one count; otherwise in this process's memory. When
Redis fails, counting goes on in memory (each instance then counts alone) and
the log says so once: a Redis outage must not stop customers.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Mapping, Optional, Tuple, Union

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
KEY_PREFIX = "hotro:limit:"
OFF = ("off", "none", "0")


def utc_now() -> datetime:
    # Aware: instances on machines with other time zones must agree on the timestamps they share in Redis.
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Rate:
    """`count` actions per `seconds`, all at once if the client likes."""

    count: int
    seconds: int

    def __post_init__(self):
        if self.count < 1 or self.seconds < 1:
            raise ValueError("a rate needs at least one action per at least one second")

    @property
    def interval_ms(self) -> int:
        return max(1, self.seconds * 1000 // self.count)

    @property
    def period_ms(self) -> int:
        return self.interval_ms * self.count

    @classmethod
    def parse(cls, text: str, name: str = "limit") -> Optional["Rate"]:
        """"30/1m", "10/10m", "3/1h", "20/3600" (seconds); "off" → None (no limit). ValueError names the variable."""
        text = (text or "").strip().lower()
        if text in OFF:
            return None
        match = re.fullmatch(r"(\d+)\s*/\s*(\d*)\s*([smhd]?)", text)
        if not match or match.group(2) == "0":
            raise ValueError(f"{name}: {text!r} is not a rate like 30/1m, 10/10m, 3/1h or off")
        unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(3)]
        return cls(int(match.group(1)), int(match.group(2) or 1) * unit)

    def __str__(self) -> str:
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.seconds % size == 0:
                return f"{self.count}/{self.seconds // size}{unit}"
        return f"{self.count}/{self.seconds}s"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds to wait before the same thing is allowed again (at least 1 when refused)


ALLOWED = Verdict(True)


def refused_for(wait_ms: int) -> Verdict:
    return Verdict(False, max(1, math.ceil(wait_ms / 1000)))


def gcra(full_at: Optional[int], now: int, rate: Rate) -> Tuple[Optional[int], int]:
    """(the client's new full-at time, or None when refused; ms to wait when refused). Times in ms.

    `full_at`: when the client's bucket would be full again (None: never used, or long ago).
    Each action pushes it one interval later; it may run at most one period ahead of now.
    """
    start = now if full_at is None or full_at < now else full_at
    pushed = start + rate.interval_ms
    allowed_from = pushed - rate.period_ms
    if now < allowed_from:
        return None, allowed_from - now
    return pushed, 0


def _ms(clock: Clock) -> int:
    return int(clock().timestamp() * 1000)


class MemoryLimiter:
    """Counts in this process. `max_keys` bounds memory against clients with ever new addresses."""

    def __init__(self, clock: Clock = utc_now, max_keys: int = 100_000):
        self._clock = clock
        self._max_keys = max_keys
        self._full_at: "OrderedDict[str, int]" = OrderedDict()

    async def hit(self, key: str, rate: Optional[Rate]) -> Verdict:
        return self.hit_now(key, rate)

    def hit_now(self, key: str, rate: Optional[Rate]) -> Verdict:
        if rate is None:
            return ALLOWED
        now = _ms(self._clock)
        full_at, wait = gcra(self._full_at.get(key), now, rate)
        if full_at is None:
            return refused_for(wait)
        self._full_at[key] = full_at
        self._full_at.move_to_end(key)
        while len(self._full_at) > self._max_keys:
            # The least recently active client: the most likely to be back to a full bucket anyway.
            self._full_at.popitem(last=False)
        return ALLOWED

    async def close(self) -> None:
        pass


# The same arithmetic as gcra(), in one step inside Redis, so that two instances never both take the last action.
GCRA_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local full_at = tonumber(redis.call('GET', KEYS[1]))
if (not full_at) or full_at < now then full_at = now end
local pushed = full_at + interval
local allowed_from = pushed - period
if now < allowed_from then return allowed_from - now end
redis.call('SET', KEYS[1], pushed, 'PX', pushed - now)
return 0
"""


class RedisLimiter:
    """Counts in Redis, shared by every instance; in memory while Redis cannot be reached."""

    def __init__(self, url: str, clock: Clock = utc_now, retry_seconds: float = 5.0, timeout: float = 0.5):
        self._url = url
        self._clock = clock
        self._retry_ms = int(retry_seconds * 1000)
        self._timeout = timeout
        self._memory = MemoryLimiter(clock)
        self._client = None
        self._loop = None
        self._script = None
        self._down_until: Optional[int] = None  # set while Redis is failing: when to try it again

    def _redis(self):
        # A client belongs to the event loop it was made in (the action server's tests run one loop per call).
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio as redis

            self._client = redis.from_url(self._url, socket_timeout=self._timeout,
                                          socket_connect_timeout=self._timeout)
            self._script = self._client.register_script(GCRA_SCRIPT)
            self._loop = loop
        return self._script

    async def hit(self, key: str, rate: Optional[Rate]) -> Verdict:
        from redis.exceptions import RedisError

        if rate is None:
            return ALLOWED
        now = _ms(self._clock)
        if self._down_until is not None and now < self._down_until:
            return self._memory.hit_now(key, rate)
        try:
            wait = await self._redis()(keys=[KEY_PREFIX + key], args=[now, rate.interval_ms, rate.period_ms])
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            if self._down_until is None:
                logger.error("Redis unavailable for rate limits (%s): each instance counts alone in memory until "
                             "it is back", type(exc).__name__)
            self._down_until = now + self._retry_ms
            return self._memory.hit_now(key, rate)
        if self._down_until is not None:
            logger.warning("Redis is back: rate limits are shared between instances again")
            self._down_until = None
        return ALLOWED if int(wait) <= 0 else refused_for(int(wait))

    async def close(self) -> None:
        if self._client is not None:
            try:
                await self._client.close()
            except RuntimeError:  # its event loop is already gone
                pass
            self._client = None


Limiter = Union[MemoryLimiter, RedisLimiter]


def make_limiter(redis_url: Optional[str], clock: Clock = utc_now) -> Limiter:
    return RedisLimiter(redis_url, clock) if redis_url else MemoryLimiter(clock)


@dataclass(frozen=True)
class LimitSettings:
    """Every per-client limit, from the environment (README, "Limits"); None: that limit is off.

    A client is an IP address (an IPv6 /64: one home or phone gets a whole one). Many customers of a mobile
    network can share one IPv4 address (carrier NAT), so the defaults leave room for several people at once.
    """

    messages: Optional[Rate] = Rate(30, 60)  # customer messages, REST and the widget together
    conversations: Optional[Rate] = Rate(10, 600)  # new chats: POST /conversations, a REST sender id never seen
    uploads: Optional[Rate] = Rate(20, 3600)  # files sent in the widget
    handoffs: Optional[Rate] = Rate(5, 3600)  # asking for a person and filing complaints: tickets, queue entries
    upload_max_bytes: Optional[int] = 2048 * 2**20  # every customer's files together, in the upload folder

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "LimitSettings":
        default = cls()

        def rate(name: str, fallback: Optional[Rate]) -> Optional[Rate]:
            raw = env.get(name, "").strip()
            return Rate.parse(raw, name) if raw else fallback

        raw_mb = env.get("HOTRO_UPLOAD_MAX_MB", "").strip().lower()
        if not raw_mb:
            max_bytes = default.upload_max_bytes
        elif raw_mb in OFF:
            max_bytes = None
        elif raw_mb.isdigit():
            max_bytes = int(raw_mb) * 2**20
        else:
            raise ValueError(f"HOTRO_UPLOAD_MAX_MB: {raw_mb!r} is not a whole number of megabytes (or off)")
        return cls(
            messages=rate("HOTRO_LIMIT_MESSAGES", default.messages),
            conversations=rate("HOTRO_LIMIT_CONVERSATIONS", default.conversations),
            uploads=rate("HOTRO_LIMIT_UPLOADS", default.uploads),
            handoffs=rate("HOTRO_LIMIT_HANDOFFS", default.handoffs),
            upload_max_bytes=max_bytes,
        )


# What a client over a limit is told, in their language; {wait} is how long, in words.
REFUSALS = {
    "messages": {
        "vi": "Bạn đang gửi tin nhắn hơi nhanh nên tin nhắn này chưa được gửi đi. Bạn vui lòng đợi khoảng {wait} "
              "rồi gửi lại nhé.",
        "en": "You are sending messages a little fast, so this one was not sent. Please wait about {wait} and "
              "send it again.",
    },
    "conversations": {
        "vi": "Có nhiều cuộc trò chuyện mới được mở từ kết nối của bạn trong thời gian ngắn. Bạn vui lòng đợi "
              "khoảng {wait} rồi thử lại nhé.",
        "en": "Many new chats were opened from your connection in a short time. Please wait about {wait} and "
              "try again.",
    },
    "uploads": {
        "vi": "Bạn đã gửi nhiều tệp trong một giờ nên tệp này chưa được nhận. Bạn vui lòng thử lại sau khoảng "
              "{wait} nhé.",
        "en": "You have sent many files this hour, so this one was not received. Please try again in about {wait}.",
    },
    "handoffs": {
        "vi": "Trong một giờ qua đã có nhiều yêu cầu gặp nhân viên hoặc khiếu nại từ kết nối của bạn, nên mình "
              "tạm chưa tạo thêm yêu cầu mới. Các yêu cầu trước đó vẫn được giữ nguyên và nhân viên sẽ xử lý. "
              "Bạn vui lòng thử lại sau khoảng {wait} nhé.",
        "en": "In the last hour there have been several requests for a person or complaints from your "
              "connection, so I cannot open a new one right now. The earlier ones are kept and our staff will "
              "handle them. Please try again in about {wait}.",
    },
}


def wait_words(seconds: int, language: str) -> str:
    """"45 giây", "3 phút", "1 giờ" / "45 seconds", "3 minutes", "1 hour": rounded up, never "0"."""
    if seconds < 60:
        amount, unit = max(1, seconds), ("giây", "second")
    elif seconds < 3600:
        amount, unit = math.ceil(seconds / 60), ("phút", "minute")
    else:
        amount, unit = math.ceil(seconds / 3600), ("giờ", "hour")
    if language == "en":
        return f"{amount} {unit[1]}{'' if amount == 1 else 's'}"
    return f"{amount} {unit[0]}"


def refusal(kind: str, language: Optional[str], retry_after: int) -> str:
    language = language if language in ("vi", "en") else "vi"
    return REFUSALS[kind][language].format(wait=wait_words(retry_after, language))
