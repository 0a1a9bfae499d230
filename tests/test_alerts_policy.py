"""Notification policy in event time: group_wait, group_interval, repeat_interval, quiet and
recovery resolution, routing, silences, inhibition, acknowledgement and resolution by hand."""

import io
from datetime import timedelta

import pytest
from alert_scenario import WithdrawalSurgeDetector, scenario_lines
from conftest import T0, make_post
from helpers import RecordingChannel, route_all

from monitor.alerts.grouping import IncidentManager, RuleMeta
from monitor.alerts.matchers import parse_matcher
from monitor.alerts.policy import Router
from monitor.alerts.settings import InhibitRuleSettings, RouteDefaults, RouteSettings
from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_config_text
from monitor.errors import MonitorError
from monitor.models import DeliveryStatus, Finding, IncidentState, Recovery, Severity
from monitor.replay import replay
from monitor.store.timefmt import to_db


def at(minutes: float) -> str:
    return to_db(T0 + timedelta(minutes=minutes))


class Harness:
    def __init__(self, store, routes=None, defaults=None, inhibit=(), metas=None):
        self.store = store
        self.metas = metas or {}
        router = Router(routes or [RouteSettings(channels=["ops"])],
                        defaults or RouteDefaults(group_wait=timedelta(0), group_interval=timedelta(minutes=10),
                                                  repeat_interval=None))
        self.manager = IncidentManager(store, lambda rule: self.metas.get(rule, RuleMeta()), router, inhibit)
        self.n = 0

    def find(self, minutes, rule="r1", severity=Severity.HIGH, group=None, post_ids=(), evidence=None):
        self.n += 1
        f = Finding(rule_id=rule, event_time=T0 + timedelta(minutes=minutes), severity=severity, group=group or {},
                    post_ids=tuple(post_ids), fingerprint=f"f{self.n}", evidence=evidence or {})
        with self.store.transaction():
            stored = self.store.save_findings([f], T0)
            self.manager.apply(stored, [], T0)

    def recover(self, minutes, rule="r1", group=None):
        with self.store.transaction():
            self.manager.apply([], [Recovery(rule, group or {}, T0 + timedelta(minutes=minutes))], T0)

    def tick(self, minutes):
        with self.store.transaction():
            self.manager.tick(T0 + timedelta(minutes=minutes))

    def rows(self, status=None):
        items = reversed(self.store.list_outbox(limit=1000))
        return [(n.channel, n.payload["event"], n.payload["at"]) for n in items
                if status is None or n.status == status]


def test_group_wait_holds_the_first_notification_and_carries_the_latest_state(store):
    h = Harness(store, defaults=RouteDefaults(group_wait=timedelta(minutes=5)))
    h.find(0)
    h.find(2)
    h.tick(4)
    assert h.rows() == []
    h.tick(6)
    [n] = store.list_outbox()
    assert (n.payload["event"], n.payload["at"]) == ("trigger", at(5))
    assert n.payload["incident"]["finding_count"] == 2  # what was known when it went out


def test_an_incident_resolved_during_group_wait_sends_nothing(store):
    h = Harness(store, defaults=RouteDefaults(group_wait=timedelta(minutes=5)))
    h.find(0)
    h.recover(3)
    h.tick(30)
    assert store.list_outbox() == []
    assert store.list_incidents()[0].state == IncidentState.RESOLVED


def test_group_interval_batches_changes_into_one_update(store):
    h = Harness(store)
    h.find(0)
    for minute in (1, 2, 3):
        h.find(minute)
    h.tick(9)
    assert h.rows() == [("ops", "trigger", at(0))]
    h.tick(11)
    assert h.rows() == [("ops", "trigger", at(0)), ("ops", "update", at(10))]
    assert store.list_outbox()[0].payload["incident"]["finding_count"] == 4
    h.tick(40)  # nothing changed since: nothing more
    assert len(h.rows()) == 2


def test_repeat_interval_reminds_about_an_unchanged_open_incident_until_acknowledged(store):
    h = Harness(store, defaults=RouteDefaults(group_wait=timedelta(0), repeat_interval=timedelta(hours=1)),
                metas={"r1": RuleMeta(resolve_after=timedelta(hours=10))})
    h.find(0)
    h.tick(185)
    assert [(e, a) for _, e, a in h.rows()] == [("trigger", at(0)), ("repeat", at(60)), ("repeat", at(120)),
                                               ("repeat", at(180))]
    incident = store.list_incidents()[0]
    h.manager.acknowledge(incident.id, T0 + timedelta(minutes=190), by="ann")
    h.tick(400)
    assert [e for _, e, _ in h.rows()][-1] == "acknowledge" and len(h.rows()) == 5


def test_quiet_period_resolves_at_last_seen_plus_resolve_after(store):
    h = Harness(store, metas={"r1": RuleMeta(resolve_after=timedelta(minutes=30))})
    h.find(0)
    h.find(10)
    h.tick(500)
    incident = store.list_incidents()[0]
    assert incident.state == IncidentState.RESOLVED and incident.resolved_at == T0 + timedelta(minutes=40)
    assert incident.summary["resolved_because"] == "quiet"
    assert h.rows() == [("ops", "trigger", at(0)), ("ops", "update", at(10)), ("ops", "resolve", at(40))]


def test_a_finding_after_the_quiet_period_opens_a_new_incident_even_in_one_batch(store):
    h = Harness(store, metas={"r1": RuleMeta(resolve_after=timedelta(minutes=30))})
    h.find(0)
    h.find(45)  # the first incident had gone quiet at 30
    first, second = sorted(store.list_incidents(limit=10), key=lambda i: i.id)
    assert first.state == IncidentState.RESOLVED and first.resolved_at == T0 + timedelta(minutes=30)
    assert second.state == IncidentState.OPEN and second.first_seen == T0 + timedelta(minutes=45)
    assert [e for _, e, _ in h.rows()] == ["trigger", "resolve", "trigger"]


def test_recovery_resolves_and_the_resolve_goes_only_to_channels_that_got_a_trigger(store):
    routes = [RouteSettings(channels=["ops"]), RouteSettings(channels=["slow"], group_wait=timedelta(hours=1))]
    h = Harness(store, routes=routes)
    h.find(0)
    h.recover(20)
    assert h.rows() == [("ops", "trigger", at(0)), ("ops", "resolve", at(20))]
    assert store.list_incidents()[0].summary["resolved_because"] == "back to baseline"


def test_routes_by_severity_category_tags_and_matchers_with_stop(store):
    routes = [RouteSettings(channels=["pager"], severity_at_least=Severity.CRITICAL, stop=True),
              RouteSettings(channels=["funds-team"], categories=["deposit_withdrawal"]),
              RouteSettings(channels=["sec"], tags=["security"]),
              RouteSettings(channels=["vip"], matchers=[parse_matcher("app_version=~7\\..*")]),
              RouteSettings(channels=["everyone"])]
    metas = {"sec-rule": RuleMeta(tags=("security",))}
    h = Harness(store, routes=routes, metas=metas)
    h.find(0, rule="crit", severity=Severity.CRITICAL, group={"category": "deposit_withdrawal"})
    h.find(0, rule="funds", group={"category": "deposit_withdrawal", "app_version": "7.1.0"})
    h.find(0, rule="sec-rule", group={"app_version": "6.0"})
    by_rule = {}
    for n in store.list_outbox():
        by_rule.setdefault(n.payload["incident"]["rule_id"], set()).add(n.channel)
    assert by_rule == {"crit": {"pager"}, "funds": {"funds-team", "vip", "everyone"}, "sec-rule": {"sec", "everyone"}}


def test_a_rules_own_channels_replace_routing(store):
    h = Harness(store, metas={"r1": RuleMeta(channels=("direct",))})
    h.find(0)
    assert [c for c, _, _ in h.rows()] == ["direct"]


def test_escalation_is_sent_at_once_and_brings_in_newly_matching_channels(store):
    routes = [RouteSettings(channels=["pager"], severity_at_least=Severity.CRITICAL), RouteSettings(channels=["ops"])]
    h = Harness(store, routes=routes)
    h.find(0, severity=Severity.MEDIUM)
    h.find(2, severity=Severity.CRITICAL)
    assert h.rows() == [("ops", "trigger", at(0)), ("ops", "escalate", at(2)), ("pager", "trigger", at(2))]
    assert store.list_incidents()[0].severity == Severity.CRITICAL


def test_a_silence_holds_notifications_once_for_the_record_and_releases_them_when_it_ends(store):
    h = Harness(store)
    silence = store.add_silence(["rule=r1", "severity=~high|critical"], T0 - timedelta(minutes=1),
                                T0 + timedelta(minutes=30), "maintenance", "ann", T0)
    h.find(0)
    h.find(5)
    h.tick(20)
    suppressed = store.list_outbox([DeliveryStatus.SUPPRESSED])
    assert len(suppressed) == 1 and suppressed[0].last_error == f"silenced by silence {silence.id}"
    assert store.list_outbox([DeliveryStatus.PENDING]) == []
    h.tick(31)
    assert h.rows(DeliveryStatus.PENDING) == [("ops", "trigger", at(30))]


def test_a_silence_that_does_not_match_mutes_nothing_and_resolves_are_never_muted(store):
    h = Harness(store, metas={"r1": RuleMeta(resolve_after=timedelta(minutes=20))})
    store.add_silence(["rule=other"], T0, T0 + timedelta(hours=5), "not this", "ann", T0)
    h.find(0)
    assert h.rows(DeliveryStatus.PENDING) == [("ops", "trigger", at(0))]
    store.add_silence(["rule=r1"], T0 + timedelta(minutes=1), T0 + timedelta(hours=5), "now muted", "ann", T0)
    h.tick(60)  # quiet at 20: the channel was paged, so it hears the resolve despite the silence
    assert h.rows(DeliveryStatus.PENDING)[-1] == ("ops", "resolve", at(20))


def test_expiring_a_silence_ends_it(store):
    s = store.add_silence(["rule=r1"], T0, T0 + timedelta(hours=2), "c", "ann", T0)
    assert store.expire_silence(s.id, T0 + timedelta(minutes=10))
    assert not store.expire_silence(s.id, T0 + timedelta(minutes=11))
    assert store.active_silences(T0 + timedelta(minutes=5)) and not store.active_silences(T0 + timedelta(minutes=11))
    assert store.list_silences(T0 + timedelta(minutes=20)) == []
    assert len(store.list_silences(T0 + timedelta(minutes=20), include_ended=True)) == 1


def test_inhibition_mutes_lower_incidents_that_share_the_equal_labels(store):
    rule = InhibitRuleSettings(source_matchers=["severity=critical"], target_matchers=["severity=~low|medium|high"],
                               equal=["category"])
    h = Harness(store, inhibit=[rule], metas={"outage": RuleMeta(resolve_after=timedelta(minutes=30))})
    h.find(0, rule="outage", severity=Severity.CRITICAL, group={"category": "deposit_withdrawal"})
    h.find(1, rule="stuck", severity=Severity.HIGH, group={"category": "deposit_withdrawal"})
    h.find(1, rule="login", severity=Severity.HIGH, group={"category": "account"})
    events = {(n.payload["incident"]["rule_id"], n.status) for n in store.list_outbox()}
    assert events == {("outage", DeliveryStatus.PENDING), ("stuck", DeliveryStatus.SUPPRESSED),
                      ("login", DeliveryStatus.PENDING)}
    [held] = store.list_outbox([DeliveryStatus.SUPPRESSED])
    outage = next(i for i in store.list_incidents(limit=10) if i.rule_id == "outage")
    assert held.last_error == f"inhibited by incident {outage.id}"
    h.find(20, rule="stuck", severity=Severity.HIGH, group={"category": "deposit_withdrawal"})
    h.tick(45)  # the outage went quiet at 30: the held trigger goes out then
    stuck = [(n.payload["event"], n.payload["at"]) for n in reversed(store.list_outbox([DeliveryStatus.PENDING]))
             if n.payload["incident"]["rule_id"] == "stuck"]
    assert stuck == [("trigger", at(30))]


def test_acknowledge_and_resolve_by_hand(store):
    h = Harness(store, routes=[RouteSettings(channels=["ops"]), RouteSettings(channels=["later"],
                                                                              group_wait=timedelta(hours=1))])
    h.find(0)
    incident = store.list_incidents()[0]
    acked = h.manager.acknowledge(incident.id, T0 + timedelta(minutes=5), by="ann", comment="looking")
    assert acked.state == IncidentState.ACKNOWLEDGED and acked.summary["note"] == "acknowledged by ann: looking"
    with pytest.raises(MonitorError, match="only open incidents"):
        h.manager.acknowledge(incident.id, T0 + timedelta(minutes=6))
    h.manager.resolve(incident.id, T0 + timedelta(minutes=7), by="ann", comment="fixed")
    assert h.rows() == [("ops", "trigger", at(0)), ("ops", "acknowledge", at(5)), ("ops", "resolve", at(7))]
    with pytest.raises(MonitorError, match="already resolved"):
        h.manager.resolve(incident.id, T0 + timedelta(minutes=8))
    with pytest.raises(MonitorError, match="no incident 99"):
        h.manager.acknowledge(99, T0)
    h.find(9)  # the same key again: a new incident
    assert len(store.list_incidents(limit=10)) == 2


def test_summary_counts_volume_trend_and_masked_clusters(store):
    posts = [make_post(i, f"withdrawal stuck for hours, mail me at user{i % 2}@example.com please", minutes=i,
                       url=f"https://example.com/p/{i}") for i in range(6)]
    posts.append(make_post(99, "The app crashes on login since the update", minutes=7))
    store.save_batch("test", posts, T0)
    ids = [p.id for p in store.get_posts(range(1, 100)).values()]
    h = Harness(store)
    h.find(0, post_ids=ids[:4], evidence={"observed": 4, "expected": 1})
    h.find(5, post_ids=ids[2:], evidence={"observed": 9, "expected": 1})
    h.tick(20)
    # clustering is redone when the incident has grown by a quarter and ten posts, and on resolve
    update = store.list_outbox()[0]
    assert update.payload["event"] == "update" and update.payload["summary"]["clusters"][0]["size"] == 4
    h.tick(200)
    incident = store.list_incidents()[0]
    assert incident.state == IncidentState.RESOLVED
    s = incident.summary
    assert incident.post_count == 7  # distinct posts, although the two findings overlap
    assert (s["observed"], s["expected"], s["trend"], s["sources"]) == (9, 1, "rising", {"test": 7})
    top = s["clusters"][0]
    assert top["size"] == 6 and "[email]" in top["text"] and "@example.com" not in top["text"]
    assert top["url"].startswith("https://example.com/p/")
    assert len(s["clusters"]) == 2 and s["examples"]


def test_replay_decides_the_same_notifications_whatever_the_chunk_size(tmp_path):
    sequences = []
    lines = "\n".join(scenario_lines())
    for chunk in (13, 400):
        cfg = load_config_text("route_defaults: {group_interval: 30m}\n", env={}, base_dir=tmp_path)
        app = App(cfg, db_path=tmp_path / f"db{chunk}.sqlite", clock=ManualClock(),
                  detectors=[WithdrawalSurgeDetector()])
        channel = RecordingChannel("rec")
        app.__dict__["channels"] = {"rec": channel}
        route_all(app, "rec")
        summary = replay(app, io.StringIO(lines), chunk_size=chunk)
        assert (summary.incidents_opened, summary.incidents_resolved) == (1, 1)
        sequences.append([(n.kind.value, n.payload["event"], n.payload["at"]) for n in channel.sent])
        app.close()
    assert sequences[0] == sequences[1]
    events = [e for _, e, _ in sequences[0]]
    assert events[0] == "trigger" and events[-1] == "resolve" and set(events[1:-1]) == {"update"}


@pytest.mark.parametrize("group_interval", [4, 5, 7])
def test_live_with_late_findings_decides_what_a_replay_decides(tmp_path, group_interval):
    """Live, a window's finding arrives `lateness` (10m) after its event time and the policy runs
    every minute; a replay knows every finding at once. Same notifications, same times."""
    from monitor.store import open_store

    events = [0, 3, 6, 9, 12, 14, 15, 21, 22, 40, 41, 44]

    def run(mode):
        store = open_store(tmp_path / f"{mode}-{group_interval}.db")
        h = Harness(store, defaults=RouteDefaults(group_wait=timedelta(seconds=30),
                                                  group_interval=timedelta(minutes=group_interval),
                                                  repeat_interval=timedelta(minutes=30)),
                    metas={"r1": RuleMeta(resolve_after=timedelta(minutes=25))})
        h.manager.settle = timedelta(minutes=10)
        if mode == "replay":
            for e in events:
                h.find(e)
            h.tick(200)
        else:
            pending = list(events)
            for minute in range(0, 201):
                while pending and pending[0] <= minute - 10:
                    h.find(pending.pop(0))
                h.tick(minute)
        rows = h.rows()
        store.close()
        return rows

    live, replayed = run("live"), run("replay")
    assert live == replayed
    assert [e for _, e, _ in live].count("resolve") == 1 and live[0][1] == "trigger"


def test_the_timeline_in_the_docs(store):
    h = Harness(store, defaults=RouteDefaults(group_wait=timedelta(seconds=30), group_interval=timedelta(minutes=10)),
                metas={"r1": RuleMeta(resolve_after=timedelta(hours=1))})
    for minute in (0, 1, 2, 25):
        h.find(minute)
    h.tick(200)
    assert [(e, a) for _, e, a in h.rows()] == [("trigger", at(0.5)), ("update", at(10.5)), ("update", at(25)),
                                               ("resolve", at(85))]
    counts = [n.payload["incident"]["finding_count"] for n in reversed(store.list_outbox())]
    assert counts == [1, 3, 4, 4]
