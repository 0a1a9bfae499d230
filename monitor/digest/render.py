"""Render a Digest as HTML (for mail clients), Markdown, plain text or JSON.

Post text is hostile. HTML goes through Jinja2's autoescape (after control and bidi characters
are stripped); the Markdown and text environments escape every interpolated value through
their `finalize` hook, so a template cannot forget to. Images are referenced according to the
medium: by Content-ID in e-mail, as data: URIs in a standalone file, as files beside a
Markdown file, or not at all (Slack gets them as uploads).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import unicodedata
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal, Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from markupsafe import Markup

from ..text.escape import strip_controls
from .charts import Chart
from .escaping import Raw, escape_md, escape_plain, md_link
from .i18n import Translator
from .model import CountRow, Digest, RatingRow, TermItem

ImageMode = Literal["cid", "data", "file", "none"]
FORMATS = ("html", "md", "text", "json")


def subject(digest: Digest, t: Translator) -> str:
    return escape_plain(t.t("subject", title=title(digest, t), period=t.period(digest.period)))


def title(digest: Digest, t: Translator) -> str:
    return digest.title or t.t("title.default")


def render(digest: Digest, fmt: str, t: Translator, charts: Mapping[str, Chart] | None = None,
           image_mode: ImageMode = "data", file_prefix: str = "") -> str:
    """The digest in `fmt` (html, md, text or json)."""
    charts = charts or {}
    if fmt == "json":
        return to_json(digest, charts)
    if fmt not in ("html", "md", "text"):
        raise ValueError(f"unknown digest format {fmt!r} (use one of: {', '.join(FORMATS)})")
    template = _env(fmt).get_template(f"digest.{'txt' if fmt == 'text' else fmt}.j2")
    context = dict(d=digest, t=t, title=title(digest, t), subject=subject(digest, t),
                   charts=_chart_refs(charts, fmt, image_mode, file_prefix), limit=digest.max_items,
                   identity=lambda x: x, link=md_link)
    out = template.render(**context)
    return _squeeze_blank_lines(out) if fmt != "html" else out


def _chart_refs(charts: Mapping[str, Chart], fmt: str, mode: ImageMode, prefix: str) -> dict[str, dict[str, Any]]:
    refs: dict[str, dict[str, Any]] = {}
    for name, chart in charts.items():
        if mode == "cid":
            src = f"cid:{chart.cid}"
        elif mode == "data":
            src = "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")
        elif mode == "file":
            src = f"{prefix}{chart.filename}"
        else:
            src = ""
        if fmt == "md":
            md = Raw(f"![{escape_md(chart.alt)}]({src})") if src else Raw(f"_{escape_md(chart.alt)}: {chart.filename}_")
            refs[name] = {"src": src, "alt": chart.alt, "md": md}
        elif fmt == "html" and src:
            refs[name] = {"src": src, "alt": chart.alt}
    return refs


# --- environments ------------------------------------------------------------------------------


def _finalize_html(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_controls(value)
    return value


def _finalize_md(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Raw):
        return value
    return escape_md(str(value))


def _finalize_text(value: Any) -> Any:
    if value is None:
        return ""
    return escape_plain(str(value))


@cache
def _env(fmt: str) -> Environment:
    loader = PackageLoader("monitor.digest", "templates")
    common = dict(loader=loader, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                  keep_trailing_newline=True)
    if fmt == "html":
        env = Environment(autoescape=True, finalize=_finalize_html, **common)
    elif fmt == "md":
        env = Environment(autoescape=False, finalize=_finalize_md, **common)
        env.filters["raw"] = Raw  # only for the output of the template's own macros, escaped inside
    else:
        env = Environment(autoescape=False, finalize=_finalize_text, **common)
        env.globals.update(table=text_table, underline=underline)
        env.filters.update(count_cells=_count_cells, rating_cells=_rating_cells, term_cells=_term_cells)
    return env


# --- plain-text tables -------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Columns a string takes in a monospaced font (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, align: str) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if align == "r" else text + gap


def text_table(headers: list[str], rows: list[list[str]], aligns: str) -> Raw:
    cells = [[escape_plain(str(c)) for c in row] for row in [headers, *rows]]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(_pad(c, w, a) for c, w, a in zip(row, widths, aligns)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return Raw("\n".join(lines))


def underline(text: str) -> Raw:
    return Raw("=" * display_width(text))


@pass_context
def _count_cells(ctx: Any, row: CountRow, label: Any) -> list[str]:
    t: Translator = ctx["t"]
    return [label(row.key), t.num(row.current), t.num(row.previous), t.change(row)]


@pass_context
def _rating_cells(ctx: Any, row: RatingRow) -> list[str]:
    t: Translator = ctx["t"]
    version = row.version + (" " + t.t("paren", text=t.t("ratings.flag")) if row.flagged else "")
    return [row.source, version, t.num(row.count), t.stars(row.mean), t.stars(row.baseline)]


@pass_context
def _term_cells(ctx: Any, term: TermItem) -> list[str]:
    t: Translator = ctx["t"]
    growth = f"×{t.num(round(term.growth, 1))}" if term.growth is not None else t.t("new")
    return [term.term, t.num(term.current), t.num(term.previous), growth]


def _squeeze_blank_lines(text: str) -> str:
    out: list[str] = []
    for line in text.splitlines():
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line.rstrip())
    return "\n".join(out).strip() + "\n"


# --- JSON ----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for prop in ("change", "mean_score", "growth", "time_to_acknowledge", "time_to_resolve"):
            if hasattr(type(value), prop) and isinstance(getattr(type(value), prop), property):
                out[prop] = _plain(getattr(value, prop))
        return out
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(digest: Digest, charts: Mapping[str, Chart] | None = None) -> str:
    """The digest's data as JSON (times in UTC ISO 8601, durations in seconds); charts by name only."""
    data = _plain(digest)
    data["charts"] = sorted(charts or {})
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
