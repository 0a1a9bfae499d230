"""Digest charts as PNG (matplotlib, Agg, imported on first use).

Three charts: posts per bucket stacked by main category, sentiment per bucket with the mean
score, and the average store rating per app version (a sinking release in red). A chart is
only drawn when there is enough data to be worth a picture; otherwise the digest shows the
numbers as a table. Chinese labels need a font with CJK glyphs: when none is installed the
charts fall back to English labels instead of drawing empty boxes.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from dataclasses import dataclass

from .i18n import Translator
from .model import Digest, RatingsSection, SentimentSection, VolumeSection

log = logging.getLogger(__name__)

MIN_POSTS = 10  # fewer posts than this in the period: a table says more than a chart
MIN_BUCKETS = 2  # buckets with data
MIN_VERSIONS = 2
MAX_RATING_ROWS = 12
MAX_CATEGORIES = 8

CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans SC", "Source Han Sans SC",
    "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback", "Microsoft YaHei",
    "SimHei", "PingFang SC", "Hiragino Sans GB", "Arial Unicode MS", "AR PL UMing CN", "Noto Serif CJK SC",
)
CATEGORY_COLORS = {
    "outage": "#d62728", "account": "#9467bd", "deposit_withdrawal": "#ff7f0e", "trading": "#1f77b4",
    "security": "#8c564b", "suggestion": "#17becf", "praise": "#2ca02c", "other": "#7f7f7f",
    "unclassified": "#c7c7c7",
}
EXTRA_COLORS = ("#e377c2", "#bcbd22", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5")
SENTIMENT_COLORS = {"negative": "#d62728", "neutral": "#bdbdbd", "positive": "#2ca02c"}

_lock = threading.Lock()  # matplotlib's rcParams are global: one chart set at a time


@dataclass(frozen=True)
class Chart:
    name: str  # volume | sentiment | ratings
    png: bytes
    alt: str

    @property
    def filename(self) -> str:
        return f"{self.name}.png"

    @property
    def cid(self) -> str:
        return f"{self.name}.chart@feedback-monitor"


CJK_FILE_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "droidsansfallback", "msyh", "simhei",
                  "pingfang", "hiragino", "arialuni", "uming", "ukai")


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed font with CJK glyphs, if any.

    matplotlib caches its font list on first use, so a font installed later (apt-get install
    fonts-noto-cjk) is not in it: the system's font files are searched and added as well.
    """
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    for path in sorted(font_manager.findSystemFonts()):
        compact = path.lower().replace("-", "").replace("_", "").rsplit("/", 1)[-1]
        if any(hint in compact for hint in CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):  # an unreadable font file: try the next
                continue
    return None


def chart_translator(translator: Translator) -> Translator:
    """The translator for chart text: the digest's own, or English when its glyphs cannot be drawn."""
    if translator.lang == "zh" and cjk_font() is None:
        log.info("no CJK font installed (e.g. Debian's fonts-noto-cjk): chart labels fall back to English")
        return Translator("en", translator.timezone)
    return translator


def render_charts(digest: Digest, translator: Translator) -> dict[str, Chart]:
    """The charts this digest has enough data for, by name."""
    plans = []
    if digest.volume and _enough_volume(digest.volume):
        plans.append(("volume", _volume_chart, digest.volume))
    if digest.sentiment and _enough_sentiment(digest.sentiment):
        plans.append(("sentiment", _sentiment_chart, digest.sentiment))
    if digest.ratings and _enough_ratings(digest.ratings):
        plans.append(("ratings", _ratings_chart, digest.ratings))
    if not plans:
        return {}
    import matplotlib

    t = chart_translator(translator)
    families = [cjk_font(), "DejaVu Sans"] if t.lang == "zh" else ["DejaVu Sans"]
    charts = {}
    # text.parse_math off: labels carry text from stores (app versions), and "$...$" in one would
    # be parsed as mathtext (an unknown command raises, and the whole digest would fail)
    with _lock, matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": families,
                                       "font.size": 8, "axes.spines.top": False, "axes.spines.right": False,
                                       "text.parse_math": False}):
        for name, draw, section in plans:
            fig = draw(section, t)
            charts[name] = Chart(name, _png(fig), t.t(f"chart.{name}"))
    return charts


def has_chart(section: object) -> bool:
    """Whether the section has enough data for its chart (the renderer shows a table otherwise)."""
    if isinstance(section, VolumeSection):
        return _enough_volume(section)
    if isinstance(section, SentimentSection):
        return _enough_sentiment(section)
    if isinstance(section, RatingsSection):
        return _enough_ratings(section)
    return False


def _enough_volume(v: VolumeSection) -> bool:
    return v.total.current >= MIN_POSTS and sum(1 for b in v.buckets if b.total) >= MIN_BUCKETS


def _enough_sentiment(s: SentimentSection) -> bool:
    return s.current.total >= MIN_POSTS and sum(1 for b in s.buckets if b.shares.total) >= MIN_BUCKETS


def _enough_ratings(r: RatingsSection) -> bool:
    return len(r.versions) >= MIN_VERSIONS


# --- drawing ---------------------------------------------------------------------------------


def _figure(height: float = 2.8):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, height), dpi=150, layout="constrained")  # room for any label length
    return fig, fig.add_subplot()


def _png(fig) -> bytes:  # noqa: ANN001 - a matplotlib Figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def _ticks(ax, starts, t: Translator) -> None:  # noqa: ANN001
    """Label about six buckets: the time, with the date where the day changes."""
    step = max(1, len(starts) // 6)
    positions = list(range(0, len(starts), step))
    labels, last_day = [], None
    for i in positions:
        local = starts[i].astimezone(t.tz)
        labels.append(t.datetime(starts[i]) if local.date() != last_day else t.time(starts[i]))
        last_day = local.date()
    ax.set_xticks(positions, labels)


def _volume_chart(v: VolumeSection, t: Translator):
    totals: dict[str, int] = {}
    for b in v.buckets:
        for cat, n in b.counts.items():
            totals[cat] = totals.get(cat, 0) + n
    order = sorted(totals, key=lambda c: -totals[c])
    shown, rest = order[:MAX_CATEGORIES], set(order[MAX_CATEGORIES:])
    fig, ax = _figure()
    x = list(range(len(v.buckets)))
    bottom = [0] * len(x)
    extra = iter(EXTRA_COLORS * 4)
    for cat in shown + (["_rest"] if rest else []):
        values = [sum(n for c, n in b.counts.items() if c in rest) if cat == "_rest" else b.counts.get(cat, 0)
                  for b in v.buckets]
        color = CATEGORY_COLORS.get(cat) or next(extra)
        label = t.category("other") + " +" if cat == "_rest" else t.category(cat)
        ax.bar(x, values, bottom=bottom, color=color, label=label, width=0.85)
        bottom = [a + b for a, b in zip(bottom, values)]
    _ticks(ax, [b.start for b in v.buckets], t)
    ax.set_title(f"{t.t('chart.volume')} ({t.t('chart.bucket', length=t.duration(v.bucket_length))})", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)
    ax.yaxis.get_major_locator().set_params(integer=True)
    return fig


def _sentiment_chart(s: SentimentSection, t: Translator):
    fig, ax = _figure()
    x = list(range(len(s.buckets)))
    bottom = [0] * len(x)
    for label in ("negative", "neutral", "positive"):
        values = [getattr(b.shares, label) for b in s.buckets]
        ax.bar(x, values, bottom=bottom, color=SENTIMENT_COLORS[label], label=t.label("sentiment", label), width=0.85)
        bottom = [a + b for a, b in zip(bottom, values)]
    ax.yaxis.get_major_locator().set_params(integer=True)
    mean_ax = ax.twinx()
    points = [(i, b.shares.mean_score) for i, b in enumerate(s.buckets) if b.shares.mean_score is not None]
    mean_ax.plot([i for i, _ in points], [m for _, m in points], color="black", marker="o", markersize=2.5,
                 linewidth=1.2, label=t.t("chart.sentiment_mean"))
    mean_ax.set_ylim(-1.05, 1.05)
    mean_ax.axhline(0, color="black", linewidth=0.5, linestyle=":")
    mean_ax.spines["right"].set_visible(True)
    _ticks(ax, [b.start for b in s.buckets], t)
    ax.set_title(f"{t.t('chart.sentiment')} ({t.t('chart.bucket', length=t.duration(s.bucket_length))})", loc="left")
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = mean_ax.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="upper left", bbox_to_anchor=(1.08, 1.0), frameon=False, fontsize=7)
    return fig


def _ratings_chart(r: RatingsSection, t: Translator):
    rows = r.versions[:MAX_RATING_ROWS]
    fig, ax = _figure(height=max(1.6, 0.32 * len(rows) + 0.8))
    y = list(range(len(rows)))[::-1]
    ax.barh(y, [row.mean for row in rows], color=["#d62728" if row.flagged else "#4c78a8" for row in rows],
            height=0.7)
    baselines = [(yy, row.baseline) for yy, row in zip(y, rows) if row.baseline is not None]
    if baselines:
        ax.scatter([b for _, b in baselines], [yy for yy, _ in baselines], marker="|", s=160, color="black",
                   zorder=3, label=t.t("col.baseline"))
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)
    ax.set_yticks(y, [f"{row.source} {_ascii_safe(row.version, t)}" for row in rows])
    for yy, row in zip(y, rows):
        ax.text(row.mean + 0.05, yy, f"{t.stars(row.mean)}  n={row.count}", va="center", fontsize=7)
    ax.set_xlim(0, 5.9)
    ax.set_xticks([1, 2, 3, 4, 5])
    ax.set_title(t.t("chart.ratings"), loc="left")
    return fig


def _ascii_safe(text: str, t: Translator) -> str:
    """Text from a store (a version name) with characters beyond the chart font replaced."""
    if t.lang == "zh":
        return text
    return "".join(ch if ord(ch) < 0x0530 else "?" for ch in text)
