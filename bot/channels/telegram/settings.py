"""Telegram settings, from the environment only (the token is a secret: never logged, never in repr)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional
from urllib.parse import urlparse

from bot.config import decimal_number, whole_number


@dataclass(frozen=True)
class TelegramSettings:
    bot_token: str = field(default="", repr=False)
    api_url: str = "https://api.telegram.org"
    webhook_url: str = ""  # set: Telegram pushes updates to the gateway instead of long polling
    webhook_secret: str = field(default="", repr=False)
    staff_chat_id: Optional[int] = None
    poll_timeout: int = 25  # seconds one getUpdates call waits for news
    staff_scan_seconds: float = 5.0  # how often the staff group is told about new handoffs and deadlines
    # False on all gateway instances but one in long-polling mode (TELEGRAM_UPDATES=off): Telegram allows one
    # poller per bot, yet every instance must send staff replies and fetch customers' files.
    receive_updates: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] = None) -> "TelegramSettings":
        env = os.environ if env is None else env
        staff_chat = (env.get("TELEGRAM_STAFF_CHAT_ID") or "").strip()
        return cls(
            bot_token=(env.get("TELEGRAM_BOT_TOKEN") or "").strip(),
            api_url=(env.get("TELEGRAM_API_URL") or "https://api.telegram.org").rstrip("/"),
            webhook_url=(env.get("TELEGRAM_WEBHOOK_URL") or "").strip(),
            webhook_secret=(env.get("TELEGRAM_WEBHOOK_SECRET") or "").strip(),
            staff_chat_id=whole_number("TELEGRAM_STAFF_CHAT_ID", staff_chat) if staff_chat else None,
            poll_timeout=whole_number("TELEGRAM_POLL_TIMEOUT", env.get("TELEGRAM_POLL_TIMEOUT") or 25, minimum=0),
            staff_scan_seconds=decimal_number("TELEGRAM_STAFF_SCAN_SECONDS", env.get("TELEGRAM_STAFF_SCAN_SECONDS") or 5,
                                              minimum=0.5),
            receive_updates=(env.get("TELEGRAM_UPDATES") or "on").strip().lower() not in ("off", "0", "false", "no"),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    @property
    def mode(self) -> str:
        if not self.receive_updates:
            return "sending only"
        return "webhook" if self.webhook_url else "long polling"

    @property
    def webhook_path(self) -> str:
        return urlparse(self.webhook_url).path or "/telegram/webhook" if self.webhook_url else ""

    def problem(self) -> Optional[str]:
        if self.webhook_url and not self.webhook_secret:
            return "TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (Telegram sends it back so forged updates are refused)"
        if self.webhook_url and not self.webhook_url.startswith("https://"):
            return "TELEGRAM_WEBHOOK_URL must be an https:// URL (Telegram only pushes to HTTPS)"
        return None
