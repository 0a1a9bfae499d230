"""Rule types in event time through the real pipeline: thresholds, spikes, flatlines, new terms."""

import json
from datetime import timedelta

from monitor.detect.rules import build_rule_engine
from monitor.models import IncidentState
from monitor.pipeline import Pipeline
from rules_helpers import T0, feed, finding_times, post_line, rules_app

THRESHOLD = """\
rules:
  - id: stuck
    title: Withdrawals stuck
    type: threshold
    window: 15m
    min_count: 3
    distinct_authors: true
    match: {keywords: [withdrawal]}
"""


def burst(start_minute: float, n: int, text="withdrawal stuck", every: float = 1.0, prefix="p", **extra):
    return [post_line(f"{prefix}{start_minute}-{i}", text, minutes=start_minute + i * every, **extra) for i in range(n)]


def test_match_rule_finding_per_post_with_group_and_evidence(tmp_path):
    app = rules_app(tmp_path, """\
    rules:
      - id: takeover
        title: Takeover
        type: match
        severity: critical
        group_by: [lang]
        match: {keywords: {en: [hacked], zh: [被盗]}}
    """)
    feed(app, [post_line(1, "account hacked", minutes=1, lang="en"), post_line(2, "fine", minutes=2),
               post_line(3, "账号被盗", minutes=3, lang="zh")])
    [first, second] = app.store.findings()
    assert first.finding.event_time == T0 + timedelta(minutes=1) and dict(first.finding.group) == {"lang": "en"}
    assert first.finding.fingerprint == f"post:{first.finding.post_ids[0]}"
    assert first.finding.evidence == {"post": "file-a:1", "matched": ["hacked"]}
    assert second.finding.evidence["matched"] == ["被盗"] and first.finding.title == "Takeover (lang=en)"
    incidents = app.store.list_incidents()
    assert sorted(i.key for i in incidents) == ["takeover|lang=en", "takeover|lang=zh"]
    assert app.rule_meta("takeover").severity.value == "critical"


def test_threshold_fires_at_window_end_in_event_time(tmp_path):
    app = rules_app(tmp_path, THRESHOLD)
    feed(app, burst(31, 3) + burst(120, 2))  # three users at 00:31-00:33; later only two
    assert finding_times(app) == [(35.0, {}), (40.0, {}), (45.0, {})]  # each window end whose 15m holds 3
    [first] = app.store.findings(limit=1)
    ev = first.finding.evidence
    assert ev["observed"] == 3 and ev["counted"] == "distinct authors" and ev["window"] == "15m"
    assert ev["window_start"] == "2026-03-02T00:20:00Z" and ev["window_end"] == "2026-03-02T00:35:00Z"
    assert len(first.finding.post_ids) == 3
    [incident] = app.store.list_incidents()
    assert incident.finding_count == 3


def test_threshold_counts_distinct_authors(tmp_path):
    app = rules_app(tmp_path, THRESHOLD)
    feed(app, burst(31, 5, author="same"))
    assert finding_times(app) == []


def test_clock_jumping_many_buckets_gives_the_same_findings(tmp_path):
    lines = burst(31, 3) + burst(200, 4) + burst(700, 3) + [post_line("late", "fine", minutes=2000)]
    stepwise = rules_app(tmp_path / "a", THRESHOLD)
    feed(stepwise, lines, chunk_size=1)  # a detection pass after every post
    jumping = rules_app(tmp_path / "b", THRESHOLD)
    feed(jumping, lines, chunk_size=100_000)  # one pass: the clock jumps ~33 hours at once
    assert finding_times(jumping) == finding_times(stepwise) != []
    assert len(finding_times(jumping)) == 9


def test_buckets_wait_until_every_enriched_post_is_observed(tmp_path):
    """A chunk detected in many small batches must not judge a bucket before its posts are counted."""
    app = rules_app(tmp_path, THRESHOLD, batch_size=1)
    feed(app, burst(31, 3) + ["\n".join(burst(60, 1, text="fine"))], chunk_size=10_000)
    assert finding_times(app) == [(35.0, {}), (40.0, {}), (45.0, {})]


def test_running_detection_twice_adds_nothing(tmp_path):
    app = rules_app(tmp_path, THRESHOLD)
    lines = burst(31, 3) + [post_line("later", "fine", minutes=200)]  # every window closes
    feed(app, lines)
    before = (app.store.count_findings(), app.store.count_incidents())
    Pipeline(app).detect()
    Pipeline(app).detect()
    feed(app, lines)  # the same posts again: stored once, judged once
    assert (app.store.count_findings(), app.store.count_incidents()) == before == (3, 1)


def test_a_restarted_engine_continues_from_the_store(tmp_path):
    """State lives in the store: a fresh engine (a crash, a restart) judges each bucket once."""
    lines = burst(31, 3) + burst(200, 3)
    reference = rules_app(tmp_path / "a", THRESHOLD)
    feed(reference, lines)
    app = rules_app(tmp_path / "b", THRESHOLD)
    feed(app, lines[:3] + [post_line("x", "fine", minutes=100)])
    app._detectors = [build_rule_engine(app)]  # a new engine with no memory
    feed(app, lines[3:])
    assert finding_times(app) == finding_times(reference)


def test_grouped_threshold_and_realert(tmp_path):
    app = rules_app(tmp_path, """\
    rules:
      - id: crash
        title: Crashes
        type: threshold
        group_by: [app_version]
        window: 30m
        min_count: 3
        realert: 20m
        match: {keywords: [crash*]}
    """)
    feed(app, burst(1, 4, text="crashes", app_version="2.0") + burst(1, 2, text="crashes", app_version="1.9",
                                                                          prefix="q")
         + [post_line("later", "fine", minutes=120)])  # moves event time on, so later windows close
    times = finding_times(app)
    assert times == [(5.0, {"app_version": "2.0"}), (25.0, {"app_version": "2.0"})]  # 10m, 15m, 20m held back
    second = app.store.findings()[1].finding
    assert second.evidence["suppressed"] == 3
    assert [i.key for i in app.store.list_incidents()] == ["crash|app_version=2.0"]


SPIKE = """\
rules:
  - id: neg
    title: Negative surge
    type: spike
    resolve_after: 6h
    match: {sentiment: negative}
"""


def test_spike_fires_and_its_recovery_resolves_the_incident(tmp_path):
    app = rules_app(tmp_path, SPIKE)
    baseline = [post_line(f"b{i}", "NEG meh", minutes=i * 15) for i in range(4 * 24 * 2)]  # two quiet days
    surge = [post_line(f"s{i}", "NEG down again", minutes=2 * 1440 + 60 + i * 0.1) for i in range(40)]
    after = [post_line(f"a{i}", "NEG meh", minutes=2 * 1440 + 120 + i * 15) for i in range(16)]
    feed(app, baseline + surge + after)
    findings = app.store.findings()
    assert findings and findings[0].finding.event_time == T0 + timedelta(days=2, minutes=65)
    ev = findings[0].finding.evidence
    assert ev["observed"] == 40 and ev["expected"] < 2 and ev["anomaly_score"] > 0.5  # 0.5 is the threshold
    [incident] = app.store.list_incidents()
    assert incident.state == IncidentState.RESOLVED
    assert incident.summary["resolved_because"] == "back to baseline"


def test_spike_findings_per_group_are_the_same_however_the_replay_is_cut(tmp_path):
    """Spike states live in the store per group: a pass per few posts, one pass, or a restarted
    engine judge the same buckets the same way."""
    rules = SPIKE.replace("match:", "group_by: [source]\n    match:")
    quiet = [post_line(f"{src}{i}", "NEG meh", minutes=i * 15 + k, source=src)
             for k, src in enumerate(("play", "x")) for i in range(4 * 24 * 2)]
    surge = [post_line(f"s{i}", "NEG down again", minutes=2 * 1440 + 60 + i * 0.1, source="x") for i in range(40)]
    after = [post_line(f"a{i}", "NEG meh", minutes=2 * 1440 + 120 + i * 15, source=src)
             for src in ("play", "x") for i in range(16)]
    lines = sorted(quiet + surge + after, key=lambda line: json.loads(line)["created_at"])

    def outcome(app):
        return (sorted(finding_times(app), key=lambda f: (f[0], sorted(f[1].items()))),
                sorted((i.key, i.state.value, i.first_seen) for i in app.store.list_incidents()))

    one_pass = rules_app(tmp_path / "a", rules)
    feed(one_pass, lines, chunk_size=100_000)
    small = rules_app(tmp_path / "b", rules)
    feed(small, lines, chunk_size=25)
    restarted = rules_app(tmp_path / "c", rules)
    feed(restarted, lines[:300])
    restarted._detectors = [build_rule_engine(restarted)]  # a new engine with no memory
    feed(restarted, lines[300:])
    expected = outcome(one_pass)
    assert expected[0] and {tuple(g.items()) for _, g in expected[0]} == {(("source", "x"),)}
    assert outcome(small) == expected and outcome(restarted) == expected


FLATLINE = """\
rules:
  - id: silent
    title: Source silent
    type: flatline
    group_by: [source]
    window: 1h
    lookback: 1d
    realert: 30m
    resolve_after: 2h
"""


def test_flatline_per_source_and_recovery(tmp_path):
    app = rules_app(tmp_path, FLATLINE)
    a = [post_line(f"a{i}", "x", minutes=i * 10, source="play") for i in range(12)]  # stops after 01:50
    b = [post_line(f"b{i}", "x", minutes=i * 10, source="x") for i in range(60)]  # keeps going for 10h
    back = [post_line(f"c{i}", "x", minutes=300 + i * 10, source="play") for i in range(3)]  # play resumes 05:00
    feed(app, a + b + back)
    times = [m for m, g in finding_times(app, "silent") if g == {"source": "play"}]
    assert times[0] == 175.0  # last play post 01:50, window 1h: flat from 02:55
    assert not [m for m in times if 300 <= m < 385]  # back from 05:00 until an hour after its last post (05:20)
    assert [m for m in times if m >= 385][0] == 385.0
    assert not [g for _, g in finding_times(app, "silent") if g != {"source": "play"}]
    first, second = sorted((i for i in app.store.list_incidents() if i.key == "silent|source=play"),
                           key=lambda i: i.id)
    assert first.state == IncidentState.RESOLVED and first.summary["resolved_because"] == "back to baseline"
    assert first.resolved_at is not None and second.first_seen == T0 + timedelta(minutes=385)


NEW_TERM = """\
rules:
  - id: terms
    title: New brand term
    type: new_term
    extract: [cashtags, hashtags, domains]
    term_filter: okx
    window: 1h
    min_count: 3
    lookback: 1d
"""


def test_new_term_waits_for_history_then_fires_once_per_term(tmp_path):
    app = rules_app(tmp_path, NEW_TERM)
    early = burst(10, 3, text="claim $OKXAI", every=5, prefix="e")  # within the first day: no history yet
    history = [post_line(f"h{i}", "trading $BTC on #okx", minutes=i * 60) for i in range(40)]
    fresh = burst(1500, 4, text="claim $OKXGPT at okxgpt.xyz", every=5, prefix="n")
    old = burst(1500, 4, text="trading on #okx", every=5, prefix="o")
    feed(app, early + history + fresh + old)
    got = {(g["term"], m) for m, g in finding_times(app)}
    assert got == {("$okxgpt", 1515.0), ("okxgpt.xyz", 1515.0)}
    f = app.store.findings()[0].finding
    assert f.evidence["first_seen"] == "2026-03-03T01:00:00Z" and len(f.post_ids) == 3
    feed(app, burst(1530, 3, text="claim $OKXGPT", every=5, prefix="m"))  # same wave: no second finding
    assert len(finding_times(app)) == 2



def test_new_term_ignore_list_is_folded_like_the_text(tmp_path):
    from monitor.detect.rules.engine import series_points
    from monitor.detect.rules.state import term_series
    from rules_helpers import enriched, ruleset_from

    ruleset = ruleset_from(tmp_path, """\
    rules:
      - id: t
        title: T
        type: new_term
        extract: [hashtags]
        ignore: ["#HESABIM", "ＯＫＸＳＣＡＭ"]
    """)
    item = enriched("#hesabım #okxscam #newthing")
    counted = [p.series for p in series_points(ruleset.get("t"), item, ruleset.context(item), 0, "a")]
    assert counted == [term_series("t", "#newthing")]

def test_average_rating_drop_for_a_version(tmp_path):
    app = rules_app(tmp_path, """\
    rules:
      - id: rating
        title: Rating drop
        type: threshold
        group_by: [app_version]
        window: 1h
        min_count: 4
        realert: 30m
        match: {rating_at_least: 1}
        average_rating: {drop: 1.0, baseline: 1d}
    """)
    old = [post_line(f"o{i}", "good", minutes=i * 20, rating=4 + i % 2, app_version="1.0") for i in range(60)]
    new = [post_line(f"n{i}", "bad", minutes=1300 + i * 5, rating=1 + i % 3, app_version="1.1") for i in range(6)]
    feed(app, old + new)
    [first, *_] = app.store.findings()
    f = first.finding
    assert dict(f.group) == {"app_version": "1.1"}
    assert f.evidence["average_rating"] < 2.5 and f.evidence["baseline_average"] == 4.5


def test_incidents_are_the_same_whether_the_clock_jumps_or_ticks(tmp_path):
    """A recovery between two flat periods resolves the first incident, even when one pass judges both."""
    lines = ([post_line(f"a{i}", "x", minutes=i * 10, source="play") for i in range(12)]
             + [post_line(f"b{i}", "x", minutes=i * 10, source="x") for i in range(60)]
             + [post_line(f"c{i}", "x", minutes=300 + i * 10, source="play") for i in range(3)])
    lines.sort(key=lambda line: json.loads(line)["created_at"])  # in event time, as a live feed would be

    def outcome(app):
        return [(i.key, i.state.value, i.first_seen, i.summary.get("resolved_because"))
                for i in sorted(app.store.list_incidents(), key=lambda i: i.id)]

    ticking = rules_app(tmp_path / "a", FLATLINE)
    feed(ticking, lines, chunk_size=1)
    jumping = rules_app(tmp_path / "b", FLATLINE)
    feed(jumping, lines, chunk_size=100_000)
    assert finding_times(jumping) == finding_times(ticking)
    assert outcome(jumping)[0][:2] == ("silent|source=play", "resolved")
    assert [o[:2] + o[3:] for o in outcome(jumping)] == [o[:2] + o[3:] for o in outcome(ticking)]


def test_match_rule_realert_and_edited_posts(tmp_path):
    app = rules_app(tmp_path, """\
    rules:
      - id: kw
        title: KW
        type: match
        realert: 30m
        resolve_after: 2h
        match: {keywords: [hacked]}
    """)
    feed(app, [post_line(i, "hacked", minutes=m) for i, m in enumerate([0, 10, 20, 40, 75])])
    assert [m for m, _ in finding_times(app)] == [0.0, 40.0, 75.0]
    assert app.store.findings()[1].finding.evidence["suppressed"] == 2
    # an old post edited to match is a finding of its own and does not move the cooldown back
    feed(app, [post_line("old", "all fine", minutes=-300)])
    feed(app, [post_line("old", "all fine... then I got hacked", minutes=-300), post_line(9, "hacked", minutes=90)])
    assert [m for m, _ in finding_times(app)] == [-300.0, 0.0, 40.0, 75.0]
