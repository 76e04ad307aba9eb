"""GET /api/kpis: the team's figures for a period (bot/services/kpis.py), for the desk and other tools.

Behind the same staff authentication as the rest of /api (the middleware in api.py).
"""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Optional, Tuple

from aiohttp import web

from bot.services.kpis import KpiService
from bot.timefmt import VIETNAM

KPIS = web.AppKey("kpis", KpiService)
MAX_DAYS = 366


def period_from(query, now: datetime) -> Tuple[datetime, datetime]:
    """`?days=N` (the last N days, default 7) or `?from=YYYY-MM-DD&to=YYYY-MM-DD` (Vietnam dates, both included)."""
    if query.get("from") or query.get("to"):
        start, end = _local_day(query.get("from")), _local_day(query.get("to"), days_after=1)
        if start is None or end is None:
            raise ValueError("from and to are dates like 2026-11-01, and both are needed")
    else:
        days = query.get("days", "7").strip()
        # ASCII digits only: int() reads "²" and "٣", and a timedelta of 10**12 days overflows (a 500).
        if not re.fullmatch(r"[+-]?[0-9]{1,6}", days):
            raise ValueError("days is a whole number")
        start, end = now - timedelta(days=int(days)), now
    if not timedelta(0) < end - start <= timedelta(days=MAX_DAYS):
        raise ValueError(f"a period is 1 to {MAX_DAYS} days")
    return start, end


def _local_day(value: Optional[str], days_after: int = 0) -> Optional[datetime]:
    """Midnight in Vietnam `days_after` the date, as the naive UTC the database stores; None for no such date."""
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d")
        return day + timedelta(days=days_after) - VIETNAM.utcoffset(None)
    except (ValueError, OverflowError):  # 0001-01-01 and 9999-12-31 have no UTC midnight in range
        return None


async def kpis(request: web.Request) -> web.Response:
    service: KpiService = request.app[KPIS]
    try:
        start, end = period_from(request.query, datetime.utcnow())
        report = await asyncio.to_thread(service.report, start, end)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(report.as_dict())


def add_kpi_api(app: web.Application, service: KpiService) -> None:
    app[KPIS] = service
    app.router.add_get("/api/kpis", kpis)
