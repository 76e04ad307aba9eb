"""Turning the Telegram channel on in the gateway (when TELEGRAM_BOT_TOKEN is set)."""
from __future__ import annotations

import logging
from typing import Optional

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from bot.channels.telegram.settings import TelegramSettings

logger = logging.getLogger(__name__)


def add_telegram(app: web.Application, core, factory: sessionmaker, settings: TelegramSettings = None):
    """Start the Telegram channel with the app; None (and one log line saying why) when it stays off."""
    settings = settings or TelegramSettings.from_env()
    # Bot API and file download URLs contain the bot token: httpx logs every request URL at INFO,
    # python-telegram-bot its URLs at DEBUG.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    if logging.getLogger("telegram").getEffectiveLevel() < logging.INFO:
        logging.getLogger("telegram").setLevel(logging.INFO)
    if not settings.enabled:
        logger.info("Telegram: off (set TELEGRAM_BOT_TOKEN to turn it on)")
        return None
    problem = settings.problem()
    if problem:
        logger.error("Telegram: off: %s", problem)
        return None
    from bot.channels.telegram.adapter import TelegramChannel
    from bot.channels.telegram.messages import SENDER_PREFIX

    channel = TelegramChannel(core, settings, factory)
    app[TELEGRAM] = channel
    # Replies from anyone (bot, staff on the desk or in the group, handback) reach Telegram customers here.
    core.hub.add_outlet(SENDER_PREFIX, channel.outlet)
    if settings.webhook_url and settings.receive_updates:
        app.router.add_post(settings.webhook_path, channel.webhook)
    app.on_startup.append(channel.start)
    app.on_cleanup.append(channel.stop)
    logger.info("Telegram: on (%s%s)", settings.mode, ", staff group" if settings.staff_chat_id is not None else "")
    return channel


def telegram_of(app: web.Application) -> Optional[object]:
    return app.get(TELEGRAM)


TELEGRAM = web.AppKey("telegram", object)
