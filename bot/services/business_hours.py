"""The shop's working hours and public holidays (business_hours.yml), and time counted in them.

With HOTRO_SLA_CLOCK=business the service levels' 24 h / 48 h count only these
hours (bot/services/sla.py): a complaint filed on Friday evening is acknowledged
within 24 *working* hours, not by Saturday evening when nobody is in. The file
is the shop's to edit; `python -m bot business-hours check` (part of
`make test-data`) says what is wrong with it, line by line of meaning.

Times in the file are Vietnam local time; everything else in the product is
naive UTC, so the calendar converts at its edges.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Interval = Tuple[time, time]
# A year with no working hour left is a broken file, not a deadline: stop looking after this.
_SEARCH_DAYS = 800


class CalendarError(ValueError):
    """The file is not a usable calendar; `problems` lists each thing to fix."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class BusinessCalendar:
    week: Dict[int, Tuple[Interval, ...]]  # weekday (0 = Monday) -> working intervals, local time
    holidays: Dict[date, str] = field(default_factory=dict)  # local dates -> name
    utc_offset: timedelta = timedelta(hours=7)

    def intervals(self, day: date) -> Tuple[Interval, ...]:
        if day in self.holidays:
            return ()
        return self.week.get(day.weekday(), ())

    def _spans(self, start_local: datetime):
        """Working spans (local datetimes) from `start_local` on, in order, clipped to start there."""
        day = start_local.date()
        for _ in range(_SEARCH_DAYS):
            for opens, closes in self.intervals(day):
                begin, end = datetime.combine(day, opens), datetime.combine(day, closes)
                if end > start_local:
                    yield max(begin, start_local), end
            day += timedelta(days=1)
        raise CalendarError([f"no working hours in the {_SEARCH_DAYS} days after {start_local:%Y-%m-%d}"])

    def add(self, start_utc: datetime, duration: timedelta) -> datetime:
        """The moment (naive UTC) when `duration` of working time has passed after `start_utc`."""
        left = duration
        cursor = start_utc + self.utc_offset
        if left <= timedelta(0):
            return start_utc
        for begin, end in self._spans(cursor):
            if end - begin >= left:
                return begin + left - self.utc_offset
            left -= end - begin
        raise AssertionError("unreachable")  # _spans raises first

    def between(self, start_utc: datetime, end_utc: datetime) -> timedelta:
        """Working time from `start_utc` to `end_utc` (negative when end comes first)."""
        if end_utc < start_utc:
            return -self.between(end_utc, start_utc)
        total, end_local = timedelta(0), end_utc + self.utc_offset
        day = (start_utc + self.utc_offset).date()
        while day <= end_local.date():
            for opens, closes in self.intervals(day):
                begin = max(datetime.combine(day, opens), start_utc + self.utc_offset)
                finish = min(datetime.combine(day, closes), end_local)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total

    def is_open(self, moment_utc: datetime) -> bool:
        local = moment_utc + self.utc_offset
        return any(opens <= local.time() < closes for opens, closes in self.intervals(local.date()))


def _clock_time(text: str, where: str, problems: List[str]):
    try:
        hour, minute = (int(part) for part in text.strip().split(":"))
        if hour == 24 and minute == 0:
            return time.max
        return time(hour, minute)
    except (ValueError, TypeError):
        problems.append(f"{where}: {text!r} is not a time like 08:00")
        return None


def _day_hours(value, where: str, problems: List[str]) -> Tuple[Interval, ...]:
    """"08:00-12:00, 13:30-17:30" or "closed"."""
    if value is None or str(value).strip().lower() in ("closed", "nghi", "nghỉ", ""):
        return ()
    found: List[Interval] = []
    for part in str(value).split(","):
        pieces = part.split("-")
        if len(pieces) != 2:
            problems.append(f"{where}: {part.strip()!r} is not hours like 08:00-17:30")
            continue
        opens, closes = (_clock_time(p, where, problems) for p in pieces)
        if opens is None or closes is None:
            continue
        if closes <= opens:
            problems.append(f"{where}: {part.strip()!r} closes before it opens")
        elif found and opens < found[-1][1]:
            problems.append(f"{where}: {part.strip()!r} overlaps or comes before the hours listed before it")
        else:
            found.append((opens, closes))
    return tuple(found)


def _date(value, where: str, problems: List[str]):
    if isinstance(value, date):
        return value
    try:
        return datetime.strptime(str(value), "%Y-%m-%d").date()
    except ValueError:
        problems.append(f"{where}: {value!r} is not a date like 2026-09-02")
        return None


def parse_calendar(data, utc_offset_hours: int = 7) -> BusinessCalendar:
    """A calendar from the file's YAML data; CalendarError lists every problem at once."""
    problems: List[str] = []
    if not isinstance(data, dict):
        raise CalendarError(["the file must hold `week:` and `holidays:`"])
    unknown = set(data) - {"week", "holidays"}
    if unknown:
        problems.append(f"unknown keys: {', '.join(sorted(map(str, unknown)))} (only week and holidays)")
    week_data = data.get("week")
    if not isinstance(week_data, dict):
        problems.append("week: give the hours of each day, mon to sun (\"08:00-17:30\" or closed)")
        week_data = {}
    for key in week_data:
        if str(key).lower() not in DAYS:
            problems.append(f"week: {key!r} is not a day (mon, tue, wed, thu, fri, sat, sun)")
    week = {i: _day_hours(week_data.get(name), f"week.{name}", problems) for i, name in enumerate(DAYS)}
    if not any(week.values()) and week_data:
        problems.append("week: no working hours at all")
    holidays: Dict[date, str] = {}
    for n, item in enumerate(data.get("holidays") or [], start=1):
        where = f"holidays #{n}"
        if not isinstance(item, dict) or not item.get("name"):
            problems.append(f"{where}: needs a name and a date (or from/to)")
            continue
        where = f"holidays #{n} ({item['name']})"
        if "date" in item:
            first = last = _date(item["date"], where, problems)
        else:
            first, last = _date(item.get("from"), where, problems), _date(item.get("to"), where, problems)
        if first is None or last is None:
            continue
        if last < first:
            problems.append(f"{where}: ends before it starts")
            continue
        if (last - first).days > 31:
            problems.append(f"{where}: longer than a month, is a year wrong?")
            continue
        day = first
        while day <= last:
            holidays[day] = str(item["name"])
            day += timedelta(days=1)
    if problems:
        raise CalendarError(problems)
    return BusinessCalendar(week, holidays, timedelta(hours=utc_offset_hours))


def load_calendar(path: Path, utc_offset_hours: int = 7) -> BusinessCalendar:
    try:
        # Every value as the text written: "2026-13-01" is then a problem to report, not a crash in YAML's dates.
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except FileNotFoundError:
        raise CalendarError([f"{path}: no such file"]) from None
    except yaml.YAMLError as exc:
        raise CalendarError([f"{path}: not valid YAML ({exc})"]) from None
    try:
        return parse_calendar(data, utc_offset_hours)
    except CalendarError as exc:
        raise CalendarError([f"{path}: {p}" for p in exc.problems]) from None
