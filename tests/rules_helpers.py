"""Shared helpers for the rule tests: rule files on disk, apps driven in event time, enrichers."""

from __future__ import annotations

import io
import textwrap
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Sequence

from conftest import T0, post_line
from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_config
from monitor.detect.rules import load_rules
from monitor.models import CategoryScore, EnrichedPost, Enrichment, Post, Sentiment
from monitor.replay import replay


def write_rules(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def ruleset_from(tmp_path: Path, text: str, **kwargs):
    return load_rules([write_rules(tmp_path, text)], **kwargs)


def enriched(text: str, lang: str = "und", sentiment: Sentiment = Sentiment.NEUTRAL, score: float = 0.0,
             categories: Sequence[tuple[str, float]] = (), security: bool = False, **post_fields) -> EnrichedPost:
    post = Post(source_type=post_fields.pop("source_type", "file"), source=post_fields.pop("source", "test"),
                external_id=post_fields.pop("external_id", "1"), text=text, created_at=T0, id=1, **post_fields)
    return EnrichedPost(post, Enrichment(lang=lang, sentiment=sentiment, sentiment_score=score,
                                         categories=tuple(CategoryScore(n, s) for n, s in categories),
                                         security=security))


class TextEnricher:
    """Deterministic enrichment for tests: 'NEG' in a text makes it negative, '[cat]' adds a category."""

    name = "test"

    def enrich(self, posts: Sequence[Post]) -> list[Enrichment]:
        out = []
        for p in posts:
            negative = "NEG" in p.text
            cats = tuple(CategoryScore(c, 0.9) for c in ("outage", "security") if f"[{c}]" in p.text)
            out.append(Enrichment(lang=p.lang or "en", sentiment=Sentiment.NEGATIVE if negative else Sentiment.NEUTRAL,
                                  sentiment_score=-0.8 if negative else 0.0, categories=cats, backend=self.name))
        return out


def rules_app(tmp_path: Path, rules_text: str, config: str = "", start=None, batch_size: int | None = None) -> App:
    path = write_rules(tmp_path, rules_text)
    cfg_text = f"rules: {{paths: [{path}]}}\nstorage: {{path: db.sqlite}}\n" + textwrap.dedent(config)
    (tmp_path / "config.yaml").write_text(cfg_text, encoding="utf-8")
    cfg = load_config(tmp_path / "config.yaml", env={}, explicit=True)
    if batch_size:
        cfg = replace(cfg, settings=cfg.settings.model_copy(update={
            "detection": cfg.settings.detection.model_copy(update={"batch_size": batch_size})}))
    app = App(cfg, db_path=tmp_path / "db.sqlite", clock=ManualClock(start or T0 - timedelta(days=1)))
    app.__dict__["enricher"] = TextEnricher()
    app.__dict__["channels"] = {}
    return app


def feed(app: App, lines: Sequence[str], chunk_size: int = 2000):
    return replay(app, io.StringIO("\n".join(lines)), chunk_size=chunk_size)


def finding_times(app: App, rule_id: str | None = None) -> list[tuple[float, dict]]:
    """(minutes after T0, group) of every stored finding, in order."""
    return [((f.finding.event_time - T0).total_seconds() / 60, dict(f.finding.group))
            for f in app.store.findings(rule_id=rule_id, limit=100_000)]


__all__ = ["post_line", "T0"]
