"""Service levels from the seeds: acknowledge within 24 h, resolve within 48 h.

Higher priorities get shorter promises; the table is the one place to change them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional


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


def due_times(priority: str, created_at: datetime) -> tuple[datetime, datetime]:
    level = SERVICE_LEVELS[priority]
    return created_at + level.acknowledge, created_at + level.resolve


def resolve_deadline(resolve_due_at: datetime, paused_at: Optional[datetime], now: datetime) -> datetime:
    """The resolution deadline as of `now`: it moves on while the shop waits for the customer (paused)."""
    return resolve_due_at + (now - paused_at) if paused_at is not None else resolve_due_at


def past_deadline(acknowledged_at: Optional[datetime], acknowledge_due_at: datetime, resolve_due_at: datetime,
                  paused_at: Optional[datetime], now: datetime) -> bool:
    """An open ticket is overdue: not acknowledged in time, or past its resolution deadline as of `now`."""
    late_ack = acknowledged_at is None and acknowledge_due_at < now
    return late_ack or resolve_deadline(resolve_due_at, paused_at, now) < now


def hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def follow_up_due(priority: str, acknowledge_due_at: datetime, acknowledged_at, now: datetime) -> datetime:
    """When a person will next contact the customer about a ticket handed over now.

    The acknowledgement deadline while it is still ahead; once the ticket was
    acknowledged (a customer chasing it) or the deadline has passed, the
    priority's acknowledgement time from now: never a time already gone.
    """
    if acknowledged_at is None and acknowledge_due_at >= now:
        return acknowledge_due_at
    return now + SERVICE_LEVELS[priority].acknowledge
