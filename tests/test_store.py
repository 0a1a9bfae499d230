import sqlite3
from datetime import timedelta

import pytest

from conftest import T0, make_post
from monitor.errors import LockedError
from monitor.models import (CategoryScore, DeliveryStatus, Enrichment, Finding, Incident, IncidentState,
                            Notification, NotificationKind, Sentiment, Severity)
from monitor.store import PostQuery, SeriesPoint


def enrichment(lang="en", cats=()):
    return Enrichment(lang=lang, sentiment=Sentiment.NEGATIVE, sentiment_score=-0.5,
                      categories=tuple(CategoryScore(c, 0.9) for c in cats), backend="test")


def test_ingest_is_idempotent(store):
    posts = [make_post(i, f"post {i}") for i in range(300)]
    first = store.save_batch("test", posts, T0)
    again = store.save_batch("test", posts, T0)
    assert (first.inserted, first.unchanged) == (300, 0)
    assert (again.inserted, again.unchanged) == (0, 300)
    assert store.count_posts() == 300


def test_duplicates_within_a_batch_are_counted_once(store):
    result = store.save_batch("test", [make_post(1, "a"), make_post(1, "a")], T0)
    assert (result.inserted, result.duplicates) == (1, 1)


def test_edit_updates_in_place_and_keeps_history(store):
    store.save_batch("test", [make_post(1, "app is fine", rating=4)], T0)
    post = store.find_post("test:1")
    store.save_enrichments([(post, enrichment())], T0)
    assert store.pending_enrichment() == 0
    result = store.save_batch("test", [make_post(1, "app crashes since update", rating=1)], T0)
    assert result.edited == 1
    edited = store.find_post("test:1")
    assert edited.id == post.id and edited.text == "app crashes since update" and edited.rating == 1
    assert [r["text"] for r in store.revisions(post.id)] == ["app is fine"]
    assert store.pending_enrichment() == 1  # an edit is scored again
    assert [p.id for p, _ in store.search_posts(PostQuery(text="crashes"))] == [post.id]
    assert store.search_posts(PostQuery(text="fine")) == []


def test_metadata_change_refreshes_without_revision(store):
    store.save_batch("test", [make_post(1, "slow", meta={"reply": None})], T0)
    result = store.save_batch("test", [make_post(1, "slow", meta={"reply": "sorry, fixed"})], T0)
    assert result.refreshed == 1
    post = store.find_post("test:1")
    assert post.meta == {"reply": "sorry, fixed"} and store.revisions(post.id) == []


def test_a_row_stored_under_another_hash_spelling_is_not_an_edit(store):
    """Databases written before the hash spelling was fixed hold other hashes for the same
    content: the stored text decides, so re-fetching them makes no revisions."""
    store.save_batch("test", [make_post(1, "slow", rating=2), make_post(2, "fast")], T0)
    with store.transaction() as conn:
        conn.execute("UPDATE posts SET content_hash = 'older-spelling'")
    result = store.save_batch("test", [make_post(1, "slow", rating=2), make_post(2, "faster now")], T0)
    assert (result.edited, result.refreshed) == (1, 1)  # post 2 changed, post 1 only re-hashed
    post = store.find_post("test:1")
    assert store.revisions(post.id) == [] and [r["text"] for r in store.revisions(store.find_post("test:2").id)] == ["fast"]
    again = store.save_batch("test", [make_post(1, "slow", rating=2)], T0)
    assert again.unchanged == 1


def test_cursor_commits_with_posts_and_rolls_back_with_them(store):
    store.save_batch("test", [make_post(1)], T0, cursor={"page": 1})
    assert store.get_cursor("test") == {"page": 1}
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.save_batch("test", [make_post(2)], T0, cursor={"page": 2})
            raise RuntimeError("crash before commit")
    assert store.get_cursor("test") == {"page": 1}
    assert store.find_post("test:2") is None


def test_full_text_search_in_many_languages(store):
    texts = ["提现一直不到账，客服不回复", "出金が反映されない", "비밀번호를 변경할 수 없어요", "Вывод средств завис",
             "Withdrawals are stuck for hours", "Rút tiền bị treo", "Para çekme işlemi takıldı"]
    store.save_batch("test", [make_post(i, t) for i, t in enumerate(texts)], T0)
    for query, expected in [("到账", 0), ("出金", 1), ("비밀번호", 2), ("средств", 3), ("withdrawal", 4),
                            ("rút tiền", 5), ("çekme", 6), ('"are stuck"', 4)]:
        found = [p.external_id for p, _ in store.search_posts(PostQuery(text=query))]
        assert found == [str(expected)], query


def test_search_filters_and_hostile_queries(store):
    store.save_batch("a", [make_post(1, "login fails", source="a"), make_post(2, "login ok", source="a", minutes=60)], T0)
    store.save_batch("b", [make_post(3, "login fails", source="b")], T0)
    posts = store.get_posts([1, 2, 3])
    store.save_enrichments([(posts[1], enrichment("en", ["account"])), (posts[3], enrichment("de"))], T0)
    assert {p.id for p, _ in store.search_posts(PostQuery(text="login", sources=("a",)))} == {1, 2}
    assert [p.id for p, _ in store.search_posts(PostQuery(text="login", category="account"))] == [1]
    assert [p.id for p, _ in store.search_posts(PostQuery(text="login", lang="de"))] == [3]
    assert [p.id for p, _ in store.search_posts(PostQuery(since=T0 + timedelta(minutes=30)))] == [2]
    for hostile in ['"', "AND OR", "a:b", "NEAR(", "*", "'; DROP TABLE posts; --"]:
        store.search_posts(PostQuery(text=hostile))  # never an FTS syntax error
    assert store.count_posts() == 3


def test_enrichment_queue_and_detection_log(store):
    store.save_batch("test", [make_post(i) for i in range(5)], T0)
    todo = store.posts_to_enrich(10)
    store.save_enrichments([(p, enrichment(cats=["outage"])) for p in todo], T0)
    store.save_enrichments([(todo[0], enrichment(cats=["security"]))], T0)  # repeat is harmless
    rows = store.enriched_after(0, 100)
    assert [r[0] for r in rows] == list(range(1, 7))
    assert rows[-1][1].enrichment.category_names == ("security",)
    assert store.enriched_after(6, 100) == []


def test_series_counts_and_distinct_authors(store):
    store.add_series_points([SeriesPoint("all", 0, "alice"), SeriesPoint("all", 0, "alice"),
                             SeriesPoint("all", 0, "bob"), SeriesPoint("all", 300, "bob")])
    store.add_series_points([SeriesPoint("all", 0, "alice")])
    counts = store.series_buckets("all", 0, 600)
    assert [(c.bucket, c.count, c.authors) for c in counts] == [(0, 4, 2), (300, 1, 1)]


def test_findings_are_unique_per_rule_and_fingerprint(store):
    f = Finding(rule_id="r1", event_time=T0, severity=Severity.HIGH, group={"cat": "x"}, post_ids=(1,),
                fingerprint="p1")
    assert len(store.save_findings([f], T0)) == 1
    assert store.save_findings([f], T0) == []
    assert store.count_findings() == 1


def test_one_open_incident_per_key(store):
    inc = Incident(id=None, key="k", rule_id="r", group={}, state=IncidentState.OPEN, severity=Severity.LOW,
                   title="t", first_seen=T0, last_seen=T0)
    store.insert_incident(inc, T0)
    with pytest.raises(sqlite3.IntegrityError):
        store.insert_incident(inc, T0)


def test_outbox_claim_lease_retry_and_dead_letter(store):
    n = Notification(id=None, channel="pd", kind=NotificationKind.TRIGGER, payload={"x": 1}, dedup_key="d",
                     incident_id=7)
    [nid] = store.enqueue([n], T0)
    [claimed] = store.claim_due(T0, 10, timedelta(minutes=5))
    assert claimed.id == nid and claimed.attempts == 1
    assert store.claim_due(T0, 10, timedelta(minutes=5)) == []  # leased
    assert len(store.claim_due(T0 + timedelta(minutes=6), 10, timedelta(minutes=5))) == 1  # lease expired
    store.mark_failed(nid, "boom", None)
    assert store.list_outbox([DeliveryStatus.DEAD])[0].last_error == "boom"
    assert store.retry_outbox(None, T0) == 1
    [again] = store.claim_due(T0, 10, timedelta(minutes=5))
    store.mark_sent(again.id, T0)
    assert store.outbox_counts() == {"sent": 1}


def test_outbox_keeps_order_per_incident_and_channel(store):
    trigger = Notification(None, "pd", NotificationKind.TRIGGER, {}, "d", incident_id=1)
    resolve = Notification(None, "pd", NotificationKind.RESOLVE, {}, "d", incident_id=1)
    store.enqueue([trigger, resolve], T0)
    first = store.claim_due(T0, 10, timedelta(minutes=5))
    assert [n.kind for n in first] == [NotificationKind.TRIGGER]
    store.mark_sent(first[0].id, T0)
    assert [n.kind for n in store.claim_due(T0, 10, timedelta(minutes=5))] == [NotificationKind.RESOLVE]


def test_second_writer_lock_fails_fast(store):
    with store.writer_lock():
        with pytest.raises(LockedError, match="already running"):
            store.writer_lock().acquire()


def test_retention_deletes_old_posts_and_their_index(store):
    store.save_batch("test", [make_post(1, "old news", minutes=0), make_post(2, "new news", minutes=60 * 24 * 40)], T0)
    deleted = store.apply_retention(T0 + timedelta(days=41), keep=timedelta(days=30))
    assert deleted == 1
    assert [p.id for p, _ in store.search_posts(PostQuery(text="news"))] == [2]


def test_schema_migrations_are_recorded_and_reapplied_safely(tmp_path):
    from monitor.store import open_store

    path = tmp_path / "m.db"
    open_store(path).close()
    s = open_store(path)  # opening again applies nothing twice
    names = [(r["migration_set"], r["name"]) for r in
             s.db.query("SELECT migration_set, name FROM _sqlite_migrations ORDER BY rowid")]
    assert ("monitor.core", "m001_posts") in names and ("monitor.core", "m002_incidents_outbox") in names
    assert {m for m, _ in names} == {"monitor.core", "monitor.alerts", "monitor.digest"}
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.close()


def test_content_and_meta_hashes_never_change():
    """The hashes are the cheap test of whether a re-fetched post changed: a new spelling would
    send every known post's next fetch to its stored text."""
    from datetime import datetime, timezone

    from monitor.models import Post
    from monitor.store.posts import content_hash, meta_hash

    full = Post(source_type="google_play", source="okx", external_id="r1", text="提现不到账 \U0001F621",
                created_at=datetime(2026, 3, 2, tzinfo=timezone.utc), title="Bad", rating=1, url="https://x/1",
                author="u", app_version="6.9.0", lang="zh")
    bare = Post(source_type="rss", source="f", external_id="r2", text="plain",
                created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    assert content_hash(full) == "cf67291480cf47950c53998a"
    assert meta_hash(full, '{"k": 1}') == "d9a0ea7d211a98fa5f5f624b"
    assert content_hash(bare) == "e4afe8803cecb29f5c21a98c"
    assert meta_hash(bare, "{}") == "2a54e6538c00843a43975b46"
