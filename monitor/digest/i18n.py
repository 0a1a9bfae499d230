"""Digest wording in English and Chinese, and locale-aware numbers, dates and durations (Babel).

The catalogs are plain dicts with the same keys (a test checks that every message exists in
both languages with the same placeholders). Placeholders take values already formatted for
the locale, so templates never format a number or a date themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from string import Formatter
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent

from .catalog import CATALOGS
from .model import CountRow, Highlight, Period

LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(message) if name}


class Translator:
    def __init__(self, lang: str, timezone: str) -> None:
        if lang not in CATALOGS:
            raise ValueError(f"unsupported digest language {lang!r} (use one of: {', '.join(CATALOGS)})")
        self.lang = lang
        self.tz = ZoneInfo(timezone)
        self.timezone = timezone
        self.locale = Locale.parse(LOCALES[lang])
        self.messages = CATALOGS[lang]
        self.html_lang = HTML_LANG[lang]

    # --- messages -----------------------------------------------------------------------

    def t(self, key: str, count: int | None = None, **params: object) -> str:
        """The message `key` with `params` filled in; `count` picks the plural form (and fills {count})."""
        message = self.messages[key]
        if count is not None:
            if self.locale.plural_form(count) == "one":
                message = self.messages.get(key + ".one", message)
            if "count" in placeholders(message):
                params["count"] = self.num(count)
        return message.format(**params) if params else message

    def label(self, group: str, key: str) -> str:
        """A category, sentiment, severity, state... label; unknown keys (user categories) as they are."""
        return self.messages.get(f"{group}.{key}", key)

    def join_labels(self, group: str, keys: list[str]) -> str:
        return ("、" if self.lang == "zh" else ", ").join(self.label(group, k) for k in keys)

    def category(self, key: str) -> str:
        return self.label("category", key)

    # --- numbers ------------------------------------------------------------------------

    def num(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def pct(self, value: float | None) -> str:
        return "–" if value is None else format_percent(value, "#,##0%", locale=self.locale)

    def signed_pct(self, value: float | None) -> str:
        return "–" if value is None else format_percent(value, "+#,##0%;-#,##0%", locale=self.locale)

    def points(self, value: float) -> str:
        """A change of a share, in percentage points."""
        return format_decimal(abs(value) * 100, "#,##0.0", locale=self.locale)

    def stars(self, value: float | None) -> str:
        return "–" if value is None else format_decimal(value, "0.0", locale=self.locale) + "★"

    def score(self, value: float | None) -> str:
        return "–" if value is None else format_decimal(value, "+0.00;-0.00", locale=self.locale)

    def change(self, row: CountRow) -> str:
        if row.previous == 0:
            return self.t("new") if row.current else "–"
        return self.signed_pct(row.change)

    # --- dates and durations ------------------------------------------------------------

    def _local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz)

    def date(self, dt: datetime) -> str:
        return format_skeleton("yMMMd", self._local(dt), locale=self.locale)

    def datetime(self, dt: datetime | None) -> str:
        """Short date and time: "Mar 1 08:00" / "3月1日 08:00"."""
        if dt is None:
            return "–"
        return self._skeletons(dt, "MMMd", "Hm")

    def time(self, dt: datetime) -> str:
        return format_skeleton("Hm", self._local(dt), locale=self.locale)

    def period(self, period: Period) -> str:
        return self.t("period", start=self._skeletons(period.start, "yMMMd", "Hm"),
                      end=self._skeletons(period.end, "yMMMd", "Hm"), tz=self.timezone)

    def _skeletons(self, dt: datetime, *skeletons: str) -> str:
        local = self._local(dt)
        return " ".join(format_skeleton(s, local, locale=self.locale) for s in skeletons)

    def duration(self, td: timedelta | None) -> str:
        """Two units at most: "1 hr 35 min", "3 days 4 hr" / "1小时35分钟"."""
        if td is None:
            return "–"
        minutes = max(0, int(td.total_seconds() // 60))
        if minutes < 60:
            units = [(timedelta(minutes=minutes), "minute")]
        elif minutes < 48 * 60:
            units = [(timedelta(hours=minutes // 60), "hour"), (timedelta(minutes=minutes % 60), "minute")]
        else:
            units = [(timedelta(days=minutes // 1440), "day"), (timedelta(hours=minutes % 1440 // 60), "hour")]
        parts = [format_timedelta(value, granularity=unit, threshold=100, format="short", locale=self.locale)
                 for i, (value, unit) in enumerate(units) if i == 0 or value]
        return ("" if self.lang == "zh" else " ").join(parts)

    def length(self, td: timedelta) -> str:
        """A period's length in words: "24 hours" / "24小时"."""
        hours = td.total_seconds() / 3600
        if hours % 24 == 0 and hours >= 48:
            return format_timedelta(td, granularity="day", threshold=1000, locale=self.locale)
        return format_timedelta(td, granularity="hour", threshold=1000, locale=self.locale)

    # --- highlights ---------------------------------------------------------------------

    def highlight(self, h: Highlight) -> str:
        fmt: dict[str, str] = {}
        count = h.params.get("count")
        for key, value in h.params.items():
            if key == "category":
                fmt[key] = self.category(str(value))
            elif key in ("mean", "baseline"):
                fmt[key] = self.stars(value)  # type: ignore[arg-type]
            elif key in ("share",):
                fmt[key] = self.pct(value)  # type: ignore[arg-type]
            elif key == "points":
                fmt[key] = self.points(value)  # type: ignore[arg-type]
            elif key == "change":
                fmt[key] = self.signed_pct(value)  # type: ignore[arg-type]
            elif key == "age":
                fmt[key] = self.duration(value)  # type: ignore[arg-type]
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                fmt[key] = self.num(value)
            else:
                fmt[key] = str(value)
        fmt.pop("count", None)
        return self.t(f"highlight.{h.kind}", count=count if isinstance(count, int) else None, **fmt)
