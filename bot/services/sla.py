"""Service levels from the seeds: acknowledge within 24 h, resolve within 48 h.

Higher priorities get shorter promises; the table is the one place to change them.
Every deadline, and every move of one, goes through `deadline()` and the clock it
counts on: wall-clock hours (HOTRO_SLA_CLOCK=wall, the default, seed 000) or the
shop's working hours (HOTRO_SLA_CLOCK=business, business_hours.yml). So what the
customer is promised, what the desk shows as due and what the figures count as on
time always agree.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional, Protocol, Tuple

from bot.config import Settings
from bot.services.business_hours import BusinessCalendar, load_calendar


@dataclass(frozen=True)
class ServiceLevel:
    acknowledge: timedelta
    resolve: timedelta


SERVICE_LEVELS = {
    "normal": ServiceLevel(timedelta(hours=24), timedelta(hours=48)),
    "high": ServiceLevel(timedelta(hours=4), timedelta(hours=24)),
    "urgent": ServiceLevel(timedelta(hours=1), timedelta(hours=8)),
}

PRIORITIES = tuple(SERVICE_LEVELS)


class SlaClock(Protocol):
    business: bool

    def add(self, start: datetime, span: timedelta) -> datetime: ...

    def between(self, start: datetime, end: datetime) -> timedelta: ...


class WallClock:
    business = False

    def add(self, start: datetime, span: timedelta) -> datetime:
        return start + span

    def between(self, start: datetime, end: datetime) -> timedelta:
        return end - start


class BusinessClock:
    business = True

    def __init__(self, calendar: BusinessCalendar):
        self.calendar = calendar

    def add(self, start: datetime, span: timedelta) -> datetime:
        return self.calendar.add(start, span)

    def between(self, start: datetime, end: datetime) -> timedelta:
        return self.calendar.between(start, end)


WALL = WallClock()
_loaded: dict = {}
_lock = threading.Lock()


def sla_clock(settings: Optional[Settings] = None) -> SlaClock:
    """The clock the settings choose; the calendar file is read again when it changes (no restart to edit it)."""
    settings = settings or Settings.from_env()
    if settings.sla_clock != "business":
        return WALL
    path = Path(settings.business_hours_file)
    key: Tuple[str, float, int] = (str(path), os.stat(path).st_mtime, settings.timezone_offset_hours)
    with _lock:
        if _loaded.get("key") != key:
            _loaded["clock"] = BusinessClock(load_calendar(path, settings.timezone_offset_hours))
            _loaded["key"] = key
        return _loaded["clock"]


def deadline(start: datetime, span: timedelta, clock: Optional[SlaClock] = None) -> datetime:
    """`span` of service-level time after `start`: THE place a promised time is computed."""
    return (clock or sla_clock()).add(start, span)


def due_times(priority: str, created_at: datetime, clock: Optional[SlaClock] = None) -> tuple[datetime, datetime]:
    level = SERVICE_LEVELS[priority]
    clock = clock or sla_clock()
    return deadline(created_at, level.acknowledge, clock), deadline(created_at, level.resolve, clock)


def resume_deadline(resolve_due_at: datetime, paused_at: datetime, now: datetime,
                    clock: Optional[SlaClock] = None) -> datetime:
    """The resolution deadline after a pause (waiting for the customer) from `paused_at` to `now`:
    the service-level time that was left when it paused is left again from now."""
    clock = clock or sla_clock()
    return deadline(now, clock.between(paused_at, resolve_due_at), clock)


def resolve_deadline(resolve_due_at: datetime, paused_at: Optional[datetime], now: datetime,
                     clock: Optional[SlaClock] = None) -> datetime:
    """The resolution deadline as of `now`: it moves on while the shop waits for the customer (paused)."""
    return resume_deadline(resolve_due_at, paused_at, now, clock) if paused_at is not None else resolve_due_at


def past_deadline(acknowledged_at: Optional[datetime], acknowledge_due_at: datetime, resolve_due_at: datetime,
                  paused_at: Optional[datetime], now: datetime, clock: Optional[SlaClock] = None) -> bool:
    """An open ticket is overdue: not acknowledged in time, or past its resolution deadline as of `now`."""
    late_ack = acknowledged_at is None and acknowledge_due_at < now
    return late_ack or resolve_deadline(resolve_due_at, paused_at, now, clock) < now


def hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


PROMISE_UNITS = {
    ("vi", False): "{n} giờ", ("vi", True): "{n} giờ làm việc",
    ("en", False): "{n} hours", ("en", True): "{n} working hours",
}


def promised_span(delta: timedelta, language: str, clock: Optional[SlaClock] = None) -> str:
    """"24 giờ" or "24 giờ làm việc": how the customer is told the span, as the clock counts it."""
    business = (clock or sla_clock()).business
    return PROMISE_UNITS[("en" if language == "en" else "vi", business)].format(n=hours(delta))


def follow_up_due(priority: str, acknowledge_due_at: datetime, acknowledged_at, now: datetime,
                  clock: Optional[SlaClock] = None) -> datetime:
    """When a person will next contact the customer about a ticket handed over now.

    The acknowledgement deadline while it is still ahead; once the ticket was
    acknowledged (a customer chasing it) or the deadline has passed, the
    priority's acknowledgement time from now: never a time already gone.
    """
    if acknowledged_at is None and acknowledge_due_at >= now:
        return acknowledge_due_at
    return deadline(now, SERVICE_LEVELS[priority].acknowledge, clock)
