"""What the digest says: numbers and lists built from a store populated through the store API."""

from datetime import datetime, timedelta, timezone

import pytest

from digest_data import END, SEED, START, populate
from monitor.digest.build import bucket_length, build_digest, quote, version_key
from monitor.digest.service import latest_fire_time
from monitor.digest.settings import DigestSettings, Section
from monitor.enrich.sensitive import mask_sensitive


@pytest.fixture(scope="module")
def digest(tmp_path_factory):
    from monitor.store import open_store

    store = open_store(tmp_path_factory.mktemp("digest") / "d.db")
    populate(store)
    yield build_digest(store, DigestSettings(name="daily"), END, "Asia/Singapore")
    store.close()


def test_volume_per_source_and_category_against_the_previous_period(digest):
    v = digest.volume
    assert (v.total.current, v.total.previous) == (50, 44)
    by_source = {r.key: (r.current, r.previous) for r in v.by_source}
    assert by_source == {"x-mentions": (24, 36), "okx-google-play": (12, 8), "reddit": (11, 0),
                         "okx-app-store": (3, 0)}
    by_category = {r.key: (r.current, r.previous) for r in v.by_category}
    assert by_category["deposit_withdrawal"] == (26, 6)
    assert by_category["outage"] == (13, 0) and by_category["security"] == (3, 0)
    assert sum(r.current for r in v.by_category) == 50  # each post counted once
    assert v.bucket_length == timedelta(hours=1) and len(v.buckets) == 24
    assert sum(b.total for b in v.buckets) == 50 and v.buckets[0].start == START


def test_sentiment_shares_and_trend(digest):
    s = digest.sentiment
    assert (s.current.negative, s.current.neutral, s.current.positive) == (43, 0, 7)
    assert (s.previous.negative, s.previous.neutral, s.previous.positive) == (6, 30, 8)
    assert s.current.mean_score < 0 < s.previous.mean_score
    assert sum(b.shares.total for b in s.buckets) == 50
    assert s.negative_share_change == pytest.approx(43 / 50 - 6 / 44)


def test_a_release_that_sinks_ratings_is_flagged(digest):
    rows = {(r.source, r.version): r for r in digest.ratings.versions}
    sinking = rows[("okx-google-play", "6.2.0")]
    assert sinking.flagged and sinking.count == 8 and sinking.mean == pytest.approx(1.5)
    assert sinking.baseline == pytest.approx(4.5)  # the store's previous period
    assert not rows[("okx-google-play", "6.1.0")].flagged
    assert not rows[("okx-app-store", "6.2.0")].flagged  # 3.0 against no baseline
    # newest version first within a store
    gp = [r.version for r in digest.ratings.versions if r.source == "okx-google-play"]
    assert gp == ["6.2.0", "6.1.0"]
    [flag] = [h for h in digest.highlights if h.kind == "rating_drop"]
    assert flag.params["version"] == "6.2.0" and flag.level == "alert"


def test_incidents_with_time_to_acknowledge_and_resolve(digest):
    i = digest.incidents
    assert (i.opened, i.acknowledged, i.resolved, i.open_at_end) == (2, 1, 1, 1)
    assert i.time_to_acknowledge.median == timedelta(minutes=30)
    assert i.time_to_resolve.median == timedelta(hours=4)
    assert [r.severity for r in i.rows] == ["critical", "high"]  # the incident resolved the day before is left out


def test_complaint_clusters_merge_near_duplicates(digest):
    clusters = digest.clusters.clusters
    assert clusters[0].size == 12 and clusters[0].category == "deposit_withdrawal"
    assert clusters[0].quote.startswith("Withdrawal stuck for hours")
    assert len(clusters[0].links) == 3 and all(u.startswith("https://") for u in clusters[0].links)
    zh = [c for c in clusters if "提币失败" in c.quote]
    assert zh and zh[0].size == 6 and zh[0].langs == ["zh"]
    assert all(not u.startswith("javascript") for c in clusters for u in c.links)


def test_emerging_terms_against_the_previous_period(digest):
    terms = {t.term: t for t in digest.terms.terms}
    assert digest.terms.enough_history
    assert terms["withdrawal"].current == 15 and terms["withdrawal"].previous == 0
    assert "today" not in terms  # frequent in the previous period too


def test_security_reports_are_listed_with_sensitive_data_masked(digest):
    sec = digest.security
    assert (sec.total, sec.exposing) == (3, 2)
    assert sec.items[0].sensitive  # those exposing data come first
    text = " ".join(item.quote for item in sec.items)
    assert "victim@example.com" not in text and "7700 900123" not in text and "abandon ability" not in text
    assert "[email]" in text and "[seed phrase]" in text and "[phone]" in text
    assert any(item.rules == ["security-takeover"] for item in sec.items)


def test_reviews_without_a_reply_oldest_first(digest):
    u = digest.unreplied
    assert u.total == 5  # 6.2.0 reviews 3..7; the others carry a reply
    assert [item.created_at for item in u.items] == sorted(item.created_at for item in u.items)
    assert u.items[0].created_at == START + timedelta(hours=5)
    assert u.blind_sources == ["okx-app-store"]  # the App Store feed cannot show replies
    assert u.items[0].age == END - u.items[0].created_at


def test_highlights_order_and_content(digest):
    kinds = [h.kind for h in digest.highlights]
    assert kinds[:2] == ["rating_drop", "sensitive_exposed"]
    assert {"incidents_open", "security_reports", "category_surge", "negative_up", "unreplied"} <= set(kinds)


def test_only_the_requested_sections_are_built(store):
    populate(store)
    d = build_digest(store, DigestSettings(sections=[Section.RATINGS, Section.VOLUME]), END, "UTC")
    assert d.sections == ["volume", "ratings"]  # the canonical order
    assert d.volume and d.ratings and d.incidents is None and d.clusters is None and not d.highlights


def test_an_empty_store_gives_an_empty_but_complete_digest(store):
    d = build_digest(store, DigestSettings(), END, "UTC")
    assert d.volume.total.current == 0 and d.ratings.versions == [] and d.clusters.clusters == []
    assert not d.terms.enough_history and d.unreplied.total == 0
    assert [h.kind for h in d.highlights] == ["quiet"]


def test_sources_option_limits_every_section(store):
    populate(store)
    d = build_digest(store, DigestSettings(sources=["okx-google-play"]), END, "UTC")
    assert [r.key for r in d.volume.by_source] == ["okx-google-play"]
    assert d.security.total == 0 and all(s == "okx-google-play" for r in d.ratings.versions for s in [r.source])


def test_helpers():
    assert bucket_length(timedelta(hours=24)) == timedelta(hours=1)
    assert bucket_length(timedelta(days=7)) == timedelta(hours=6)
    assert bucket_length(timedelta(days=30)) == timedelta(days=1)
    assert sorted(["9.12.1", "10.2.0", "10.10.0", "?"], key=version_key) == ["?", "9.12.1", "10.2.0", "10.10.0"]
    assert quote("a\n\nb  " + "x" * 300, 20).endswith("…") and "\n" not in quote("a\nb")
    assert "[seed phrase]" in mask_sensitive(f"seed phrase: {SEED}")
    # a tx hash stays (support needs it), a private key after its key word goes
    tx = "ab" * 32
    assert tx in mask_sensitive(f"tx {tx} is pending") and tx not in mask_sensitive(f"my private key {tx}")


@pytest.mark.parametrize("cron,tz,now,expected", [
    ("0 8 * * *", "Asia/Singapore", "2026-03-02T00:00:00Z", "2026-03-02T00:00:00Z"),  # exactly at the fire time
    ("0 8 * * *", "Asia/Singapore", "2026-03-02T03:30:00Z", "2026-03-02T00:00:00Z"),
    ("0 8 * * *", "Asia/Singapore", "2026-03-01T23:59:00Z", "2026-03-01T00:00:00Z"),
    ("0 9 * * 1", "UTC", "2026-03-05T10:00:00Z", "2026-03-02T09:00:00Z"),  # weekly, on Mondays
    ("*/15 * * * *", "UTC", "2026-03-02T10:07:00Z", "2026-03-02T10:00:00Z"),
    ("0 0 1 * *", "Europe/Berlin", "2026-03-20T00:00:00Z", "2026-02-28T23:00:00Z"),  # monthly, local midnight
])
def test_latest_fire_time(cron, tz, now, expected):
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    assert latest_fire_time(cron, tz, parse(now)) == parse(expected)
    assert latest_fire_time(cron, tz, parse(now)).tzinfo == timezone.utc


@pytest.mark.parametrize("cron,now,expected", [
    ("30 1 * * *", "2026-11-01T06:45:00Z", "2026-11-01T06:30:00Z"),  # 01:30 EST, the second 01:30 that night
    ("30 1 * * *", "2026-11-01T06:29:00Z", "2026-11-01T05:30:00Z"),  # 01:30 EDT
    ("30 1 * * *", "2026-11-02T06:00:00Z", "2026-11-01T06:30:00Z"),
    ("*/15 * * * *", "2026-11-01T06:50:00Z", "2026-11-01T06:45:00Z"),  # inside the repeated hour
    ("30 2 * * *", "2026-03-08T12:00:00Z", "2026-03-08T07:30:00Z"),  # 02:30 does not exist: 03:30 EDT
])
def test_latest_fire_time_when_daylight_saving_changes(cron, now, expected):
    """New York's clocks go back on 2026-11-01 (01:00-02:00 twice) and forward on 2026-03-08."""
    import threading

    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    answer = []
    worker = threading.Thread(target=lambda: answer.append(latest_fire_time(cron, "America/New_York", parse(now))),
                              daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "latest_fire_time never returned"
    assert answer == [parse(expected)]


def test_digest_settings_validation():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="5-field cron"):
        DigestSettings(schedule="1h")
    with pytest.raises(ValidationError, match="between 1h and 92d"):
        DigestSettings(period="10m")
    with pytest.raises(ValidationError):
        DigestSettings(lang="fr")
    with pytest.raises(ValidationError):
        DigestSettings(sections=["volume", "weather"])


@pytest.mark.parametrize("expr,first_fire", [
    ("0 9 * * 1", "2026-03-02T09:00:00+00:00"),  # crontab 1 = Monday (APScheduler 3's own numbering says Tuesday)
    ("0 9 * * 0", "2026-03-08T09:00:00+00:00"),  # 0 = Sunday
    ("0 9 * * 7", "2026-03-08T09:00:00+00:00"),  # 7 = Sunday too
    ("0 9 * * 1-5", "2026-03-02T09:00:00+00:00"),
    ("0 9 * * 6", "2026-03-07T09:00:00+00:00"),
    ("0 9 * * sun", "2026-03-08T09:00:00+00:00"),
    ("0 9 * * */2", "2026-03-03T09:00:00+00:00"),  # sun, tue, thu, sat
])
def test_cron_weekdays_follow_crontab(expr, first_fire):
    from monitor.config.types import cron_trigger

    start = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # a Monday
    assert cron_trigger(expr, "UTC").get_next_fire_time(None, start).isoformat() == first_fire
