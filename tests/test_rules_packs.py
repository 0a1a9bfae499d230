"""The shipped rule packs: valid, tested in every language they claim, and wired end to end."""

import io
import json
from datetime import timedelta

from helpers import RecordingChannel, route_all
from monitor.config import load_config
from monitor.detect.rules import load_rules
from monitor.detect.rules import model as m
from monitor.detect.rules.testing import run_tests
from monitor.models import IncidentState, NotificationKind
from monitor.paths import builtin_rules_dir
from monitor.replay import replay
from rules_helpers import T0, TextEnricher, rules_app

LANGUAGES = {"en", "zh", "ko", "ja", "ru", "vi", "tr", "es", "pt"}


def shipped():
    return load_rules([builtin_rules_dir()])


def test_every_shipped_rule_has_tests_and_they_pass():
    ruleset = shipped()
    assert len(ruleset) >= 15 and not ruleset.warnings
    results = run_tests(ruleset, load_config(None), TextEnricher().enrich)
    failed = [f"{r.label}: expected {r.expected}, got {r.actual}" for r in results if not r.ok]
    assert not failed, "\n".join(failed)
    assert {r.rule_id for r in results} == {r.id for r in ruleset.rules}


def test_security_and_incident_rules_cover_every_language():
    for rule in shipped().rules:
        if not rule.id.startswith(("security.", "incidents.")):
            continue
        langs = set()
        for node_cond in _keyword_conditions(rule.spec.match):
            if isinstance(node_cond.keywords, dict):
                langs |= set(node_cond.keywords)
        if langs:  # keyword rules (not the category spike or the new_term rule)
            assert LANGUAGES <= langs, (rule.id, LANGUAGES - langs)
            positives = [c for c in rule.spec.tests if isinstance(c, m.MatchCase) and c.expect == "match"]
            assert len(positives) >= len(LANGUAGES), rule.id


def _keyword_conditions(cond):
    if cond is None:
        return
    if isinstance(cond, m.KeywordsCond):
        yield cond
    for child in getattr(cond, "all", None) or getattr(cond, "any", None) or []:
        yield from _keyword_conditions(child)


def test_end_to_end_replay_with_the_shipped_packs(tmp_path):
    """A small day of posts through replay: the expected findings, incidents, pages and resolutions."""
    app = rules_app(tmp_path, "rules: []\n")
    app.config.settings.rules.paths[:] = ["@builtin"]
    app._detectors = None
    channel = RecordingChannel("oncall")
    app.__dict__["channels"] = {"oncall": channel}
    route_all(app, "oncall")
    posts = []

    def add(minute, text, **extra):
        obj = {"source": extra.pop("source", "x-mentions"), "id": f"p{len(posts)}", "text": text,
               "created_at": (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ"), **extra}
        posts.append(json.dumps(obj, ensure_ascii=False))

    for i in range(0, 24 * 60, 30):  # a steady trickle from two sources all day
        add(i, "just trading, all good", source="okx-google-play", rating=5, author=f"u{i}")
        add(i + 1, "nice app", source="x-mentions", author=f"v{i}")
    add(120, "My account was hacked and they changed my email", author="alice")
    add(125, "账号被盗了！", author="bob")
    for n in range(6):  # withdrawals stuck: six users within 12 minutes at 09:00
        add(540 + 2 * n, "withdrawal pending for 3 hours", author=f"w{n}")
    add(600, "Claim your bonus at okx-gift.xyz now", author="scammer")
    posts.sort(key=lambda line: json.loads(line)["created_at"])
    summary = replay(app, io.StringIO("\n".join(posts)), chunk_size=50)
    assert not summary.rejected
    by_rule = {}
    for f in app.store.findings(limit=10_000):
        by_rule.setdefault(f.finding.rule_id, []).append(f.finding)
    assert set(by_rule) == {"incidents.withdrawals_stuck", "security.account_takeover", "security.lookalike_domain"}
    assert len(by_rule["security.account_takeover"]) == 2
    assert len(by_rule["security.lookalike_domain"]) == 1
    [stuck] = by_rule["incidents.withdrawals_stuck"]  # realert 30m: one finding for the burst
    assert stuck.event_time == T0 + timedelta(minutes=550) and stuck.evidence["observed"] == 5
    assert "health.source_flatline" not in by_rule  # both sources kept posting
    incidents = {i.key: i for i in app.store.list_incidents()}
    assert set(incidents) == {"security.account_takeover", "security.lookalike_domain", "incidents.withdrawals_stuck"}
    assert incidents["security.account_takeover"].finding_count == 2
    assert incidents["incidents.withdrawals_stuck"].state == IncidentState.RESOLVED  # quiet for 2h
    triggers = [n for n in channel.sent if n.kind == NotificationKind.TRIGGER]
    assert len(triggers) == 3 and [n for n in channel.sent if n.kind == NotificationKind.RESOLVE]
