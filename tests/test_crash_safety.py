"""kill -9 at any moment loses no stored post and no pending notification, and never pages twice.

A replay runs in a subprocess and is killed with SIGKILL part-way; replaying the same file again
must finish the job exactly once: every post stored once, every finding once, every
notification delivered, and the receiver sees each notification once (a resend after a crash
carries the same dedup key, so at most one raw duplicate per kill is tolerated, as a receiver
like PagerDuty merges it).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from monitor.synthetic import generate

REPO = Path(__file__).resolve().parent.parent

# A receiver that appends what it gets to a file (fsync'd, as a real peer's durable log),
# and a keyword detector: posts mentioning "hacked" are findings, one incident per quiet period.
SCRIPT = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, {tests!r})
    from helpers import KeywordDetector, route_all
    from monitor.alerts.base import Channel
    from monitor.app import App
    from monitor.clock import ManualClock
    from monitor.config import load_config_text
    from monitor.replay import replay

    class FileReceiver(Channel):
        type = "file-receiver"
        def deliver(self, n, refs=None):
            with open(sys.argv[3], "a") as f:
                f.write(json.dumps({{"id": n.id, "key": n.dedup_key, "kind": n.kind.value}}) + "\\n")
                f.flush(); os.fsync(f.fileno())
            return {{}}

    app = App(load_config_text("routes: []\\n", env={{}}), db_path=sys.argv[1], clock=ManualClock(),
              detectors=[KeywordDetector("hacked")])
    app.__dict__["channels"] = {{"rec": FileReceiver("rec", Channel.Options())}}
    route_all(app, "rec")
    with open(sys.argv[2]) as f:
        summary = replay(app, f, chunk_size=int(sys.argv[4]))
    print("done", summary.ingest.inserted, flush=True)
""").format(tests=str(REPO / "tests"))


def write_posts(path: Path, n: int, seed: int = 11) -> list[dict]:
    posts = list(generate(n, seed=seed))
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts))
    return posts


def run_replay(tmp: Path, db: Path, posts: Path, receiver: Path, chunk: int, kill_after_posts: int | None = None):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db), str(posts), str(receiver), str(chunk)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after_posts is None:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
        return True
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists() and _count(db, "SELECT count(*) FROM posts") >= kill_after_posts:
            break
        time.sleep(0.05)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    return killed


def _count(db: Path, sql: str) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def outcome(db: Path, receiver: Path) -> dict:
    con = sqlite3.connect(db)
    result = {
        "posts": con.execute("SELECT count(*) FROM posts").fetchone()[0],
        "enriched": con.execute("SELECT count(*) FROM enrichments").fetchone()[0],
        "findings": con.execute("SELECT count(*) FROM findings").fetchone()[0],
        "unlinked_findings": con.execute("SELECT count(*) FROM findings WHERE incident_id IS NULL").fetchone()[0],
        "incidents": con.execute("SELECT rule_id, first_seen, last_seen, state, finding_count FROM incidents "
                                 "ORDER BY id").fetchall(),
        "outbox": con.execute("SELECT kind, status, count(*) FROM outbox GROUP BY kind, status ORDER BY 1, 2").fetchall(),
    }
    con.close()
    lines = [json.loads(l) for l in receiver.read_text().splitlines()] if receiver.exists() else []
    result["received"] = Counter((l["id"], l["key"], l["kind"]) for l in lines)
    return result


def check_invariants(result: dict, posts: list[dict], kills: int) -> None:
    assert result["posts"] == len({p["id"] for p in posts})
    assert result["enriched"] == result["posts"]
    assert result["findings"] == sum("hacked" in p["text"].lower() for p in posts)
    assert result["unlinked_findings"] == 0
    assert all(status in ("sent", "suppressed") for _, status, _ in result["outbox"])
    sent = sum(n for _, status, n in result["outbox"] if status == "sent")
    assert len(result["received"]) == sent  # every notification arrived
    assert sum(result["received"].values()) - sent <= kills  # at most one resend per kill, same dedup key


@pytest.mark.slow
def test_kill_9_during_a_100k_replay_loses_nothing_and_pages_once(tmp_path):
    posts = write_posts(tmp_path / "posts.jsonl", 100_000)
    db, receiver = tmp_path / "m.db", tmp_path / "received.jsonl"
    killed = run_replay(tmp_path, db, tmp_path / "posts.jsonl", receiver, 2000, kill_after_posts=30_000)
    assert killed, "the replay finished before it could be killed"
    assert 0 < _count(db, "SELECT count(*) FROM posts") < 100_000
    run_replay(tmp_path, db, tmp_path / "posts.jsonl", receiver, 2000)
    result = outcome(db, receiver)
    check_invariants(result, posts, kills=1)
    assert result["incidents"], "the scenario should open incidents"


def test_repeated_kills_give_the_same_incidents_and_notifications_as_a_clean_run(tmp_path):
    posts = write_posts(tmp_path / "posts.jsonl", 8_000, seed=5)
    clean_db, clean_rx = tmp_path / "clean.db", tmp_path / "clean.jsonl"
    run_replay(tmp_path, clean_db, tmp_path / "posts.jsonl", clean_rx, 500)
    clean = outcome(clean_db, clean_rx)
    check_invariants(clean, posts, kills=0)

    db, rx = tmp_path / "crashy.db", tmp_path / "crashy.jsonl"
    kills = 0
    for threshold in (1_500, 4_000, 6_500):
        kills += run_replay(tmp_path, db, tmp_path / "posts.jsonl", rx, 500, kill_after_posts=threshold)
    run_replay(tmp_path, db, tmp_path / "posts.jsonl", rx, 500)
    crashy = outcome(db, rx)
    check_invariants(crashy, posts, kills=kills)
    assert crashy["incidents"] == clean["incidents"]
    assert crashy["outbox"] == clean["outbox"]
    assert set(crashy["received"]) == set(clean["received"])
