"""The readable summary kept on every incident.

Counts (languages, sources, categories) grow with each finding from the posts it adds; the
near-duplicate clusters and example links are recomputed from the latest posts just before a
notification goes out and when the incident resolves. Post text is masked for sensitive data
(e-mail addresses, phone numbers, keys, seed phrases, one-time codes) before it is stored here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any, Mapping

from ..enrich.sensitive import mask_sensitive
from ..models import Finding, Incident
from ..store import SqliteStore
from ..store.timefmt import to_db
from ..text.escape import plain_url
from ..text.quote import quote
from .payload import number

MAX_CLUSTERS = 5
MAX_EXAMPLES = 5
CLUSTER_SAMPLE = 300  # latest posts clustered per refresh
TEXT_LIMIT = 280
SERIES_POINTS = 48

# evidence keys detectors use for the observed and the expected (baseline) volume
OBSERVED_KEYS = ("observed", "count", "value", "current")
EXPECTED_KEYS = ("expected", "baseline", "mean", "threshold")


def trend_of(values: list[float]) -> str:
    """Compare the latest value with the mean of the (up to three) before it."""
    if len(values) < 2:
        return "new"
    before = values[-4:-1]
    mean = sum(before) / len(before)
    if mean <= 0:
        return "rising" if values[-1] > 0 else "steady"
    ratio = values[-1] / mean
    return "rising" if ratio > 1.25 else "falling" if ratio < 0.8 else "steady"


def _bump(counts: Mapping[str, int] | None, keys: list[str]) -> dict[str, int]:
    out = Counter(dict(counts or {}))
    out.update(k for k in keys if k)
    return dict(out.most_common())


class Summarizer:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def add_finding(self, incident: Incident, finding: Finding) -> Incident:
        """Fold one finding into the incident's counts and volume series (no clustering here)."""
        assert incident.id is not None
        summary = dict(incident.summary)
        new_ids = self.store.add_incident_posts(incident.id, finding.post_ids)
        if new_ids:
            posts = self.store.get_posts(new_ids)
            enrichments = self.store.get_enrichments(new_ids)
            summary["sources"] = _bump(summary.get("sources"), [p.source for p in posts.values()])
            summary["languages"] = _bump(summary.get("languages"),
                                         [enrichments[i].lang if i in enrichments else (posts[i].lang or "und")
                                          for i in new_ids if i in posts])
            summary["categories"] = _bump(summary.get("categories"),
                                          [c for e in enrichments.values() for c in e.category_names])
        evidence = dict(finding.evidence)
        observed, expected = number(evidence, OBSERVED_KEYS), number(evidence, EXPECTED_KEYS)
        summary["evidence"] = evidence
        if observed is not None:
            summary["observed"], summary["expected"] = observed, expected
            series = list(summary.get("series") or []) + [[to_db(finding.event_time), observed]]
            summary["series"] = series[-SERIES_POINTS:]
            summary["trend"] = trend_of([float(v) for _, v in summary["series"]])
        else:
            hourly = dict(summary.get("hourly") or {})
            hour = to_db(finding.event_time.replace(minute=0, second=0, microsecond=0))
            hourly[hour] = hourly.get(hour, 0) + max(1, len(new_ids))
            summary["hourly"] = dict(sorted(hourly.items())[-SERIES_POINTS:])
            summary["trend"] = trend_of([float(v) for v in summary["hourly"].values()])
        return replace(incident, summary=summary, post_count=incident.post_count + len(new_ids))

    def refresh(self, incident: Incident) -> Incident:
        """Recompute the near-duplicate clusters and example links from the latest posts."""
        assert incident.id is not None
        ids = self.store.incident_post_ids(incident.id, CLUSTER_SAMPLE)
        posts = self.store.get_posts(ids)
        ordered = [posts[i] for i in ids if i in posts]
        summary = dict(incident.summary)
        from ..text.clusters import cluster_texts  # datasketch is slow to import: only when needed

        # cluster the masked texts: what is shown, and two posts differing only in an e-mail address are one
        clusters = cluster_texts([mask_sensitive(p.full_text) for p in ordered]) if ordered else []
        summary["clusters"] = [
            {"size": c.size, "text": quote(ordered[c.representative].full_text, TEXT_LIMIT),
             "url": mask_sensitive(plain_url(ordered[c.representative].url)), "post": ordered[c.representative].key}
            for c in clusters[:MAX_CLUSTERS]]
        summary["examples"] = [{"post": p.key, "url": mask_sensitive(plain_url(p.url)), "source": p.source}
                               for p in reversed(ordered) if plain_url(p.url)][:MAX_EXAMPLES]
        return replace(incident, summary=summary)

    @staticmethod
    def annotate(incident: Incident, **notes: Any) -> Incident:
        """Add short notes to the summary (resolved_because, note...)."""
        return replace(incident, summary={**incident.summary, **{k: v for k, v in notes.items() if v is not None}})
