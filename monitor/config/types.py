"""Small value types shared by config and rule files: durations and schedules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:\s*\d+(?:\.\d+)?\s*[smhdw])+\s*$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(value: Any) -> timedelta:
    """'90s', '5m', '2h', '7d', '1w', compounds such as '1h30m' or '2d15m' (or seconds, or a timedelta)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5m, 2h or 7d")
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    if isinstance(value, str) and _DURATION.match(value):
        return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value)))
    raise ValueError(f"expected a duration such as 30s, 5m, 2h, 7d or 1w, got {value!r}")


def format_duration(td: timedelta) -> str:
    """The shortest way to write `td`: '5m', '2h', '1h30m', '2d15m'."""
    seconds = int(td.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    if len(parts) == 1 and parts[0].endswith("d") and int(parts[0][:-1]) % 7 == 0:
        return f"{int(parts[0][:-1]) // 7}w"
    return "".join(parts)


Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]


@dataclass(frozen=True)
class Schedule:
    """Either a fixed interval or a 5-field cron expression (in the configured timezone)."""

    interval: timedelta | None = None
    cron: str | None = None

    def __str__(self) -> str:
        return self.cron if self.cron else format_duration(self.interval or timedelta())


def parse_schedule(value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("every "):
            text = text[6:]
        if len(text.split()) == 5:
            try:
                cron_trigger(text, "UTC")
            except ValueError as exc:
                raise ValueError(f"invalid cron expression {text!r}: {exc}") from None
            return Schedule(cron=text)
        interval = parse_duration(text)
        if interval.total_seconds() < 1:
            raise ValueError("an interval must be at least 1s")
        return Schedule(interval=interval)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Schedule(interval=parse_duration(value))
    raise ValueError(f"expected an interval (15m, 1h) or a 5-field cron expression, got {value!r}")


_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # crontab numbers: 0 and 7 are Sunday


def cron_trigger(expr: str, timezone: Any):
    """An APScheduler CronTrigger for a standard 5-field crontab expression.

    APScheduler 3's `CronTrigger.from_crontab` numbers weekdays from Monday (0 = Monday), so
    "0 9 * * 1" would fire on Tuesdays; crontab numbers them from Sunday (0 and 7). Numeric
    weekdays are translated to names here, which both agree on.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_crontab_weekdays(weekday),
                       timezone=timezone)


def _crontab_weekdays(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    names: list[str] = []
    for item in field.split(","):
        base, _, step_text = item.partition("/")
        if base == "*":
            low, high = 0, 6
        elif re.fullmatch(r"\d+-\d+", base):
            low, high = (int(x) for x in base.split("-"))
        elif base.isdigit():
            low = high = int(base)
            if step_text:
                high = 6  # "1/2": from Monday, every other day to the end of the week
        else:
            names.append(item)  # names (mon, mon-fri) mean the same in both
            continue
        if not 0 <= low <= high <= 7:
            raise ValueError(f"weekday {item!r} is out of range (0-7, where 0 and 7 are Sunday)")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else 1
        if step_text and not step_text.isdigit():
            raise ValueError(f"invalid weekday step in {item!r}")
        names.extend(_CRONTAB_DAYS[n] for n in range(low, high + 1, step))
    return ",".join(dict.fromkeys(names))


ScheduleField = Annotated[Schedule, BeforeValidator(parse_schedule), PlainSerializer(str, return_type=str)]
