"""GET /api/kpis: the team's figures for a period (bot/services/kpis.py), for the desk and other tools;
GET /api/charts: the same figures over time (bot/services/charts.py), as numbers, SVG or CSV.

Behind the same staff authentication as the rest of /api (the middleware in api.py).
"""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Optional, Tuple

from aiohttp import web

from bot.categories import LABELS
from bot.gateway.chart_svg import render
from bot.services.charts import CHART_IDS, ChartService
from bot.services.kpis import KpiService
from bot.timefmt import VIETNAM

KPIS = web.AppKey("kpis", KpiService)
CHARTS = web.AppKey("charts", ChartService)
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
        if not re.fullmatch(r"[+-]?[0-9]+", days):
            raise ValueError(f"days is a whole number of 1 to {MAX_DAYS}")
        if len(days.lstrip("+-")) > 6:
            raise ValueError(f"a period is 1 to {MAX_DAYS} days")
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
    data = report.as_dict()
    data["labels"] = {"categories": LABELS[_language(request.query)]}  # people read labels, not codes
    return web.json_response(data)


def _language(query) -> str:
    return "en" if query.get("lang", "vi") == "en" else "vi"


async def charts(request: web.Request) -> web.Response:
    """Every chart's numbers, titles, definitions and drawing, for the same period parameters as /api/kpis."""
    try:
        start, end = period_from(request.query, datetime.utcnow())
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    language = _language(request.query)
    found = await asyncio.to_thread(request.app[CHARTS].charts, start, end, language)
    # Drawn here too: the desk's tab costs one computation of the figures, not one per chart.
    return web.json_response({"charts": [dict(c.as_dict(), svg=render(c, language)) for c in found]})


async def chart_file(request: web.Request) -> web.Response:
    """One chart drawn (.svg) or its numbers (.csv, for a spreadsheet)."""
    name, form = request.match_info["chart"], request.match_info["form"]
    if name not in CHART_IDS:
        return web.json_response({"error": f"no chart {name!r}; there are {', '.join(CHART_IDS)}"}, status=404)
    try:
        start, end = period_from(request.query, datetime.utcnow())
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    language = _language(request.query)
    chart = await asyncio.to_thread(request.app[CHARTS].chart, name, start, end, language)
    headers = {"Cache-Control": "no-store"}
    if form == "csv":
        headers["Content-Disposition"] = f'attachment; filename="hotro-{name}-{end:%Y%m%d}.csv"'
        # With a BOM, Excel opens the Vietnamese labels as UTF-8.
        return web.Response(body=("\ufeff" + chart.csv()).encode("utf-8"), headers=headers,
                            content_type="text/csv", charset="utf-8")
    return web.Response(text=render(chart, language), content_type="image/svg+xml", headers=headers)


def add_kpi_api(app: web.Application, service: KpiService, chart_service: ChartService) -> None:
    app[KPIS] = service
    app[CHARTS] = chart_service
    app.router.add_get("/api/kpis", kpis)
    app.router.add_get("/api/charts", charts)
    app.router.add_get(r"/api/charts/{chart:[a-z_]+}.{form:svg|csv}", chart_file)
