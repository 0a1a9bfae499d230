"""Digest benchmark: how long a daily digest takes on a busy day, section by section.

    python -m bench.digest [--posts-per-day 20000]

Stores two days of synthetic multilingual posts (complaints with near-duplicates, store reviews
with ratings and replies, security reports) through the store API, then times building each
section, drawing the charts and rendering every format. Writes the `digest` section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench._report import write_section
from monitor.digest.build import _Builder, highlights
from monitor.digest.charts import render_charts
from monitor.digest.i18n import Translator
from monitor.digest.model import Digest, Period
from monitor.digest.render import render
from monitor.digest.service import DigestOutput, build_payload
from monitor.digest.settings import DigestSettings, Section
from monitor.models import CategoryScore, Enrichment, Post, Sentiment
from monitor.store import open_store

END = datetime(2026, 3, 2, tzinfo=timezone.utc)
TEMPLATES = [
    ("en", "deposit_withdrawal", "Withdrawal of {coin} stuck for {n} hours, support not answering"),
    ("en", "outage", "App crashes when I open the {coin} chart after the update"),
    ("en", "account", "Cannot log in, 2FA code rejected again, ticket #{n}"),
    ("en", "trading", "Order for {coin} filled at a terrible price, slippage {n}%"),
    ("zh", "deposit_withdrawal", "{coin}提币失败，已经等了{n}个小时"),
    ("zh", "outage", "更新后应用一直闪退，第{n}次了"),
    ("ko", "deposit_withdrawal", "{coin} 출금이 {n}시간째 안 돼요"),
    ("ja", "account", "ログインできません、{n}回目です"),
    ("ru", "deposit_withdrawal", "Вывод {coin} висит уже {n} часов"),
    ("es", "trading", "La orden de {coin} se ejecutó mal, {n}% de deslizamiento"),
    ("en", "praise", "Great app, {coin} trading is fast"),
    ("en", "security", "My account was hacked, {n} {coin} withdrawn without my approval"),
]
COINS = ["BTC", "ETH", "USDT", "SOL", "PEPE", "TON"]


def synthetic(n_per_day: int, rng: random.Random) -> dict[str, list[tuple[Post, Enrichment]]]:
    out: dict[str, list[tuple[Post, Enrichment]]] = {"x": [], "gp": [], "forum": []}
    start = END - timedelta(days=2)
    for i in range(2 * n_per_day):
        at = start + timedelta(seconds=rng.uniform(0, 2 * 86400))
        lang, category, template = rng.choice(TEMPLATES)
        text = template.format(coin=rng.choice(COINS), n=rng.randint(1, 48))
        negative = category not in ("praise",)
        sentiment = Sentiment.NEGATIVE if negative else Sentiment.POSITIVE
        e = Enrichment(lang=lang, sentiment=sentiment, sentiment_score=-0.7 if negative else 0.7,
                       categories=(CategoryScore(category, 0.9),), security=category == "security",
                       sensitive=("email",) if category == "security" and i % 5 == 0 else (), backend="bench")
        kind = i % 3
        if kind == 1:  # a Google Play review
            version = "6.2.0" if at > END - timedelta(days=1) and rng.random() < 0.5 else "6.1.0"
            rating = rng.randint(1, 2) if version == "6.2.0" else rng.randint(3, 5)
            meta = {"reply_text": "Thanks" if rng.random() < 0.3 else None}
            post = Post("google_play", "gp", f"g{i}", text, at, url=f"https://play.example/{i}", rating=rating,
                        app_version=version, meta=meta, author=f"u{i % 5000}")
            out["gp"].append((post, e))
        else:
            source = "x" if kind == 0 else "forum"
            post = Post("twitter" if kind == 0 else "rss", source, f"p{i}", text, at, url=f"https://x.example/{i}",
                        author=f"u{i % 5000}")
            out[source].append((post, e))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts-per-day", type=int, default=20000)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.db")
        for source, pairs in synthetic(args.posts_per_day, rng).items():
            for i in range(0, len(pairs), 2000):
                chunk = pairs[i : i + 2000]
                store.save_batch(source, [p for p, _ in chunk], END)
            ids = dict(store.db.execute("SELECT external_id, id FROM posts WHERE source = ?", (source,)).fetchall())
            for i in range(0, len(pairs), 2000):
                chunk = pairs[i : i + 2000]
                store.save_enrichments([(replace(p, id=ids[p.external_id]), e) for p, e in chunk], END)
        settings = DigestSettings(name="bench")
        period = Period(END - settings.period, END, "UTC")
        builder = _Builder(store, settings, period)
        timings: list[tuple[str, float]] = []
        built = {}
        total_start = time.perf_counter()
        for section in (Section.VOLUME, Section.SENTIMENT, Section.RATINGS, Section.INCIDENTS, Section.CLUSTERS,
                        Section.TERMS, Section.SECURITY, Section.UNREPLIED):
            t0 = time.perf_counter()
            built[section] = getattr(builder, section.value)()
            timings.append((f"section {section.value}", time.perf_counter() - t0))
        digest = Digest(name="bench", title=None, lang="en", period=period, sections=[s.value for s in Section],
                        highlights=highlights(built, settings))
        for section, value in built.items():
            setattr(digest, section.value, value)
        translator = Translator("en", "UTC")
        t0 = time.perf_counter()
        charts = render_charts(digest, translator)
        timings.append(("charts (3 PNG)", time.perf_counter() - t0))
        for fmt in ("html", "md", "text", "json"):
            t0 = time.perf_counter()
            render(digest, fmt, translator, charts, "cid")
            timings.append((f"render {fmt}", time.perf_counter() - t0))
        t0 = time.perf_counter()
        payload = build_payload(DigestOutput(digest, translator, charts), settings)
        timings.append(("outbox payload (all parts)", time.perf_counter() - t0))
        total = time.perf_counter() - total_start
        size = sum(len(v) for k, v in payload.items() if isinstance(v, str)) + sum(
            len(i["content_b64"]) for i in payload["images"])
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store.close()
    rows = "\n".join(f"| {name} | {seconds * 1000:,.0f} ms |" for name, seconds in timings)
    body = (f"`python -m bench.digest --posts-per-day {args.posts_per_day}`: a 24-hour digest over "
            f"{args.posts_per_day:,} posts in the period and as many in the previous one (three sources, "
            f"a third of them Google Play reviews), {digest.clusters.posts:,} complaint posts clustered "
            f"(capped at the newest 3,000).\n\n| step | time |\n|---|---:|\n{rows}\n"
            f"| **total** | **{total * 1000:,.0f} ms** |\n\n"
            f"Payload size {size / 1024:,.0f} KiB (text, HTML, Markdown and three charts); peak RSS of the "
            f"process {rss:,.0f} MiB (including storing the posts). Load average during the run: "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (times grow when the machine is shared).")
    print(body)
    write_section("digest", "Digest: build and render a daily digest", body)


if __name__ == "__main__":
    main()
