"""The figures tab's charts: the numbers behind each one, by day or by week, with labels people read.

Each weekly point is KpiService.report() for that week, so a chart and the
figures above it never disagree on what "on time" or "first response" means.
Weeks start on Monday, Vietnam time, clipped to the chosen period; days are
Vietnam dates. A week with nothing to measure is a gap (None), not a zero.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.categories import CATEGORIES, label
from bot.services.kpis import KpiReport, KpiService
from bot.store.db import session_scope
from bot.store.models import Ticket, utcnow
from bot.timefmt import VIETNAM

OFFSET = VIETNAM.utcoffset(None)


@dataclass(frozen=True)
class Series:
    name: str
    values: List[Optional[float]]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    definition: str  # what the numbers mean, shown under the chart
    kind: str  # "stacked" bars or "lines"
    unit: str  # "", "%", "min", "NPS", "/5"
    labels: List[str]  # one per point on the x axis
    series: List[Series]
    y_min: Optional[float] = None
    y_max: Optional[float] = None
    period: str = ""  # the x axis: "day" or "week starting"

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([self.period] + [s.name for s in self.series])
        for i, point in enumerate(self.labels):
            writer.writerow([point] + ["" if s.values[i] is None else _number(s.values[i]) for s in self.series])
        return out.getvalue()

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "definition": self.definition, "kind": self.kind,
                "unit": self.unit, "period": self.period, "labels": self.labels,
                "series": [{"name": s.name, "values": s.values} for s in self.series]}


TEXT = {
    "vi": {
        "day": "Ngày", "week": "Tuần bắt đầu",
        "tickets_per_day": ("Phiếu khiếu nại mỗi ngày, theo loại",
                            "Số phiếu mở trong ngày (giờ Việt Nam), chia theo loại khiếu nại."),
        "on_time": ("Đúng hạn mỗi tuần",
                    "Trong các phiếu mở trong tuần đã đến hạn: tỷ lệ được xác nhận trong 24 giờ và giải quyết "
                    "trong 48 giờ (ưu tiên cao: 4 h / 24 h; khẩn: 1 h / 8 h). Thời gian chờ khách trả lời không tính."),
        "ack": "Xác nhận đúng hạn", "resolve": "Giải quyết đúng hạn",
        "first_response": ("Thời gian phản hồi đầu tiên",
                           "Từ lúc bot chuyển hội thoại cho nhân viên đến tin nhắn đầu tiên của nhân viên, phút: "
                           "trung vị (một nửa nhanh hơn) và phân vị 90 (9/10 nhanh hơn)."),
        "median": "Trung vị", "p90": "Phân vị 90",
        "csat": ("CSAT mỗi tuần",
                 "Customer Satisfaction: tỷ lệ khách chấm 4 hoặc 5 (trên thang 1–5) khi nhân viên trả hội thoại "
                 "lại cho bot."),
        "nps": ("NPS mỗi tuần",
                "Net Promoter Score: sau khi khiếu nại được giải quyết, khách chấm 0–10 khả năng giới thiệu shop. "
                "NPS = % chấm 9–10 trừ % chấm 0–6, từ −100 đến +100."),
        "ces": ("CES mỗi tuần",
                "Customer Effort Score: khi bot tự giải quyết được (khách bấm 👍), khách chấm 1–5 mức độ dễ dàng "
                "(5 = rất dễ). Điểm trung bình, cao hơn là tốt hơn."),
    },
    "en": {
        "day": "Day", "week": "Week starting",
        "tickets_per_day": ("Complaint tickets per day, by category",
                            "Tickets opened each day (Vietnam time), by complaint category."),
        "on_time": ("On time, per week",
                    "Among the week's tickets whose deadline has come: the share acknowledged within 24 hours and "
                    "resolved within 48 (high priority 4 h / 24 h, urgent 1 h / 8 h). Waiting for the customer "
                    "does not count."),
        "ack": "Acknowledged on time", "resolve": "Resolved on time",
        "first_response": ("First response time",
                           "From the bot handing a chat to staff to a staff member's first message, in minutes: "
                           "median (half were faster) and 90th percentile (9 in 10 were faster)."),
        "median": "Median", "p90": "90th percentile",
        "csat": ("CSAT per week",
                 "Customer Satisfaction: the share of 4 and 5 ratings (scale 1-5) given when a person hands the "
                 "chat back to the bot."),
        "nps": ("NPS per week",
                "Net Promoter Score: after a complaint is resolved, customers say 0-10 how likely they are to "
                "recommend the shop. NPS = % of 9-10 minus % of 0-6, from -100 to +100."),
        "ces": ("CES per week",
                "Customer Effort Score: when the bot solved something alone (the customer pressed 👍), customers "
                "say 1-5 how easy it was (5 = very easy). The average; higher is better."),
    },
}

CHART_IDS = ("tickets_per_day", "on_time", "first_response", "csat", "nps", "ces")


class ChartService:
    def __init__(self, factory: sessionmaker, clock: Callable[[], datetime] = utcnow):
        self._factory = factory
        self._clock = clock
        self._kpis = KpiService(factory, clock=clock)

    def charts(self, start: datetime, end: datetime, language: str = "vi") -> List[Chart]:
        text = TEXT["en" if language == "en" else "vi"]
        return [self._tickets_per_day(start, end, text, language)] + self._weekly(start, end, text)

    def chart(self, chart_id: str, start: datetime, end: datetime, language: str = "vi") -> Chart:
        if chart_id not in CHART_IDS:
            raise KeyError(chart_id)
        text = TEXT["en" if language == "en" else "vi"]
        if chart_id == "tickets_per_day":
            return self._tickets_per_day(start, end, text, language)
        return next(c for c in self._weekly(start, end, text) if c.id == chart_id)

    def _weekly(self, start: datetime, end: datetime, text: Dict) -> List[Chart]:
        return weekly_charts([(lbl, self._kpis.report(a, b)) for lbl, a, b in weeks_between(start, end)], text)

    def _tickets_per_day(self, start: datetime, end: datetime, text: Dict, language: str) -> Chart:
        with session_scope(self._factory) as session:
            rows = session.execute(select(Ticket.created_at, Ticket.category).where(
                Ticket.created_at >= start, Ticket.created_at < end)).all()
        days = days_between(start, end)
        counts = Counter(((created + OFFSET).strftime("%d/%m"), category) for created, category in rows)
        present = [c for c in CATEGORIES if any(cat == c for _, cat in rows)]
        title, definition = text["tickets_per_day"]
        return Chart("tickets_per_day", title, definition, "stacked", "", days,
                     [Series(label(c, language), [counts[(d, c)] for d in days]) for c in present],
                     y_min=0, period=text["day"])


def days_between(start: datetime, end: datetime) -> List[str]:
    """Vietnam dates from `start` to `end` (naive UTC), as "dd/mm"."""
    day, last, found = (start + OFFSET).date(), (end - timedelta(microseconds=1) + OFFSET).date(), []
    while day <= last:
        found.append(day.strftime("%d/%m"))
        day += timedelta(days=1)
    return found


def weeks_between(start: datetime, end: datetime) -> List[Tuple[str, datetime, datetime]]:
    """(label, start, end) of each Monday-to-Sunday week (Vietnam time) in the period, clipped to it."""
    local = start + OFFSET
    monday = datetime.combine((local - timedelta(days=local.weekday())).date(), datetime.min.time()) - OFFSET
    found = []
    while monday < end:
        a, b = max(monday, start), min(monday + timedelta(days=7), end)
        found.append(((monday + OFFSET).strftime("%d/%m"), a, b))
        monday += timedelta(days=7)
    return found


def weekly_charts(weeks: List[Tuple[str, KpiReport]], text: Dict) -> List[Chart]:
    labels = [lbl for lbl, _ in weeks]
    reports = [r for _, r in weeks]

    def percent(value):
        return None if value is None else round(value * 100, 1)

    def chart(key, kind, unit, series, y_min=None, y_max=None):
        title, definition = text[key]
        return Chart(key, title, definition, kind, unit, labels, series, y_min, y_max, text["week"])

    return [
        chart("on_time", "lines", "%", [
            Series(text["ack"], [percent(r.tickets.acknowledged_on_time.rate) for r in reports]),
            Series(text["resolve"], [percent(r.tickets.resolved_on_time.rate) for r in reports]),
        ], 0, 100),
        chart("first_response", "lines", "min", [
            Series(text["median"], [r.chats.first_response.median_minutes for r in reports]),
            Series(text["p90"], [r.chats.first_response.p90_minutes for r in reports]),
        ], 0),
        chart("csat", "lines", "%", [Series("CSAT", [percent(r.satisfaction.csat) for r in reports])], 0, 100),
        chart("nps", "lines", "", [Series("NPS", [r.nps.score for r in reports])], -100, 100),
        chart("ces", "lines", "/5", [Series("CES", [r.ces.score for r in reports])], 1, 5),
    ]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
