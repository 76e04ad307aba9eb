"""Files customers sent on Telegram, fetched for staff (getFile, then the file download), kept briefly in memory.

A download URL contains the bot token, and so does File.file_path once
python-telegram-bot has prefixed it: neither is ever logged nor put in an error.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Dict, Tuple

from telegram import Bot
from telegram.error import BadRequest, TelegramError

logger = logging.getLogger(__name__)

MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API serves no bigger file to bots


class FileTooBig(Exception):
    pass


class FileUnavailable(Exception):
    """Telegram is unreachable, or refused the file (e.g. a file id it no longer knows)."""


class FileCache:
    """The most recently fetched files, at most `max_bytes` in all, each for `ttl` seconds.

    The desk re-draws a transcript every few seconds; without this each redraw
    would download every photo again.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, ttl: float = 15 * 60):
        self.max_bytes, self.ttl = max_bytes, ttl
        self._entries: "OrderedDict[str, Tuple[float, bytes]]" = OrderedDict()
        self._size = 0

    def get(self, key: str):
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self.ttl:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        self._drop(key)
        self._entries[key] = (time.monotonic(), data)
        self._size += len(data)
        while self._size > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._size -= len(entry[1])


class TelegramFiles:
    def __init__(self, bot: Bot, cache: FileCache = None, read_timeout: float = 60):
        self.bot = bot
        self.cache = cache or FileCache()
        self.read_timeout = read_timeout
        self._pending: Dict[str, asyncio.Future] = {}

    async def fetch(self, file_id: str) -> bytes:
        """The file's bytes; FileTooBig or FileUnavailable. Staff opening the same photo at once share one download."""
        cached = self.cache.get(file_id)
        if cached is not None:
            return cached
        pending = self._pending.get(file_id)
        if pending is None:
            pending = self._pending[file_id] = asyncio.ensure_future(self._download(file_id))
            pending.add_done_callback(lambda done: self._forget(file_id, done))
        return await asyncio.shield(pending)

    def _forget(self, file_id: str, done: asyncio.Future) -> None:
        self._pending.pop(file_id, None)
        if not done.cancelled():
            done.exception()  # retrieved here too, in case every waiting request went away

    async def _download(self, file_id: str) -> bytes:
        try:
            file = await self.bot.get_file(file_id)
            if (file.file_size or 0) > MAX_DOWNLOAD:
                raise FileTooBig()
            # python-telegram-bot reads a local file instead when file_path names one; only a URL on our own
            # Bot API server is acceptable.
            if not str(file.file_path or "").startswith(f"{self.bot.base_file_url}/"):
                raise FileUnavailable("Telegram gave no download address for the file")
            data = bytes(await file.download_as_bytearray(read_timeout=self.read_timeout))
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise FileTooBig() from None
            logger.warning("Telegram refused a file: %s", exc.message[:100])
            raise FileUnavailable(exc.message[:100]) from None
        except TelegramError as exc:
            logger.warning("Telegram file download failed: %s", type(exc).__name__)
            raise FileUnavailable("Telegram is unreachable") from None
        if len(data) > MAX_DOWNLOAD:
            raise FileTooBig()
        self.cache.put(file_id, data)
        return data
