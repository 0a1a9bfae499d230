"""End to end: a quiet baseline, a surge of withdrawal complaints and the return to normal,
replayed through the whole pipeline to PagerDuty and Jira peers on loopback; then the same
with the process killed (SIGKILL) in the middle of a delivery and started again."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from alert_peers import JiraPeer, PagerDutyPeer
from alert_scenario import WithdrawalSurgeDetector, scenario_lines
from conftest import REPO

from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_config_text
from monitor.models import IncidentState
from monitor.replay import replay


@pytest.fixture
def peers():
    pd, jira = PagerDutyPeer(), JiraPeer()
    yield pd, jira
    pd.close()
    jira.close()


def config_text(pd: PagerDutyPeer, jira: JiraPeer) -> str:
    return f"""
channels:
  - name: oncall
    type: pagerduty
    options: {{base_url: "{pd.url}", routing_key: "{pd.routing_key}", timeout: 20}}
  - name: tickets
    type: jira
    options: {{base_url: "{jira.url}", project: OPS, email: bot@example.com, api_token: jira-token-1, timeout: 20}}
routes:
  - channels: [oncall, tickets]
route_defaults:
  group_interval: 30m
delivery:
  lease: 1s
  backoff: 1s
"""


def assert_receivers_saw_one_incident(pd: PagerDutyPeer, jira: JiraPeer) -> None:
    # PagerDuty, deduplicated by dedup_key: one incident, triggered and resolved
    assert pd.opened == 1 and len(pd.alerts) == 1
    [alert] = pd.alerts.values()
    assert alert["status"] == "resolved"
    assert [e["event_action"] for e in pd.events].count("resolve") == 1
    assert {e["dedup_key"] for e in pd.events} == set(pd.alerts)
    # Jira: one issue, its updates as comments (none twice), moved to Done
    assert len(jira.issues) == 1
    [issue] = jira.issues.values()
    markers = [json.dumps(c).split("monitor notification ")[1].split(" ")[0] for c in issue["comments"]]
    assert len(markers) >= 2 and len(markers) == len(set(markers))
    assert issue["status"]["name"] == "Done" and issue["transitioned"] == ["Done"]


def test_surge_gives_one_page_one_resolve_and_one_ticket_with_comments(tmp_path, peers):
    pd, jira = peers
    app = App(load_config_text(config_text(pd, jira), env={}, base_dir=tmp_path), db_path=tmp_path / "db.sqlite",
              clock=ManualClock(), detectors=[WithdrawalSurgeDetector()])
    lines = "\n".join(scenario_lines())
    summary = replay(app, io.StringIO(lines), chunk_size=100)
    assert (summary.incidents_opened, summary.incidents_resolved) == (1, 1)
    assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]
    assert_receivers_saw_one_incident(pd, jira)
    [issue] = jira.issues.values()
    assert len(issue["comments"]) == 5  # four updates (30 minutes apart) and the resolve
    [incident] = app.store.list_incidents(states=[IncidentState.RESOLVED])
    assert incident.refs == {"oncall.dedup_key": pd.events[0]["dedup_key"], "tickets.issue": "OPS-1"}
    s = incident.summary
    assert s["resolved_because"] == "back to baseline" and s["observed"] >= 3 * s["expected"] > 0
    assert "[email]" in json.dumps(s["clusters"]) and "victim@" not in json.dumps(s)
    requests = len(pd.requests) + len(jira.requests)
    replay(app, io.StringIO(lines), chunk_size=100)  # the same history again: nothing new anywhere
    assert len(pd.requests) + len(jira.requests) == requests
    app.close()


@pytest.mark.slow
@pytest.mark.parametrize("stall_at", ["pagerduty", "jira"])
def test_kill_9_during_delivery_then_restart_still_gives_exactly_one_incident(tmp_path, peers, stall_at):
    pd, jira = peers
    config, db, posts = tmp_path / "config.yaml", tmp_path / "db.sqlite", tmp_path / "posts.jsonl"
    config.write_text(config_text(pd, jira), encoding="utf-8")
    posts.write_text("\n".join(scenario_lines()) + "\n", encoding="utf-8")
    if stall_at == "pagerduty":  # PagerDuty takes the trigger, then the answer never comes
        stall = pd.stall_on(lambda r: r.method == "POST")
    else:  # Jira creates the issue, then the answer never comes
        stall = jira.stall_on(lambda r: r.method == "POST" and r.path.endswith("/issue"))
    command = [sys.executable, str(REPO / "tests" / "alert_scenario.py"), str(config), str(db), str(posts)]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert stall.reached.wait(60), "the replay never reached the delivery"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        stall.release.set()
    assert (pd.opened, len(jira.issues)) == (1, 1 if stall_at == "jira" else 0)
    time.sleep(1.2)  # let the dead worker's lease (1s in this config) run out
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_receivers_saw_one_incident(pd, jira)
    if stall_at == "jira":
        assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]
        assert any(r.path.endswith("/search/jql") for r in jira.requests)  # the retry looked before creating
    else:
        assert [e["event_action"] for e in pd.events] == ["trigger", "trigger", "resolve"]  # same dedup_key
