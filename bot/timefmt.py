"""Times as the customer reads them: Vietnam local time (UTC+7, no daylight saving)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7))


def local(dt_utc: datetime) -> datetime:
    return dt_utc.replace(tzinfo=timezone.utc).astimezone(VIETNAM)


def format_local(dt_utc: datetime, language: str = "vi") -> str:
    value = local(dt_utc)
    if language == "en":
        return value.strftime("%H:%M, %d/%m/%Y")
    return value.strftime("%Hh%M ngày %d/%m/%Y")
