"""What every long-running process does first, and the start-up summary `make run` prints."""
from __future__ import annotations

import sys
from typing import List, Mapping

from bot.settings_env import load_dotenv, mask_url


def database_ready(url: str, process: str = "") -> bool:
    """True if the database is at the code's head; else say why in one line on stderr."""
    from bot.store.migrate import DatabaseNotReady, require_head

    try:
        require_head(url)
    except DatabaseNotReady as exc:
        print(f"{process} not started: {exc}" if process else str(exc), file=sys.stderr, flush=True)
        return False
    return True


def exit_unless_migrated(process: str) -> str:
    """Load .env, then stop the process (exit 2) unless its database is at head; return the database URL.

    A service on the wrong or an empty database would otherwise start, say it is running,
    and fail every customer's complaint.
    """
    from bot.services import registry

    load_dotenv()
    url = registry.settings().database_url
    if not database_ready(url, process):
        raise SystemExit(2)
    return url


def summary_lines(env: Mapping[str, str], database_url: str) -> List[str]:
    """Which stores this start really uses, with passwords masked."""
    from bot.channels.telegram.settings import TelegramSettings
    from bot.rasa_endpoints import tracker_store_url

    tracker = tracker_store_url(env)
    redis = env.get("HOTRO_REDIS_URL", "").strip()
    telegram = TelegramSettings.from_env(env)
    if telegram.enabled:
        mode = f"on ({telegram.mode}" + (", staff group)" if telegram.staff_chat_id is not None else ")")
    else:
        mode = "off (set TELEGRAM_BOT_TOKEN in .env to turn it on; see README)"
    return [
        f"database:            {mask_url(database_url)}",
        "Rasa tracker store:  " + (f"PostgreSQL {mask_url(tracker)}" if tracker
                                   else "in memory (conversations restart when Rasa restarts)"),
        "Rasa lock store:     " + (f"Redis {mask_url(redis)}" if redis else "in memory (one Rasa process)"),
        "Redis fan-out:       " + (f"on ({mask_url(redis)})" if redis else "off (one gateway)"),
        f"Telegram:            {mode}",
    ]
