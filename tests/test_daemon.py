"""The daemon: job isolation, clean shutdown on SIGTERM, one daemon per database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

from monitor.app import App
from monitor.config import load_config_text
from monitor.config.types import Schedule
from monitor.daemon import JOB_PROVIDERS, Daemon, JobSpec


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_failing_job_never_stops_the_others(tmp_path, caplog):
    runs = {"good": 0, "bad": 0}

    def bad():
        runs["bad"] += 1
        raise RuntimeError("boom")

    def good():
        runs["good"] += 1

    def provider(app, pipeline):
        return [JobSpec("bad", bad, Schedule(interval=timedelta(seconds=0.2)), run_now=True),
                JobSpec("good", good, Schedule(interval=timedelta(seconds=0.2)), run_now=True)]

    JOB_PROVIDERS.append(provider)
    try:
        app = App(load_config_text("routes: []\n", env={}), db_path=tmp_path / "d.db", detectors=[])
        daemon = Daemon(app)
        thread = threading.Thread(target=daemon.run)
        thread.start()
        assert wait_for(lambda: runs["good"] >= 3 and runs["bad"] >= 3)
        daemon.stop()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        JOB_PROVIDERS.remove(provider)
    assert "job bad failed" in caplog.text and "RuntimeError: boom" in caplog.text


SLOW_SOURCE_DAEMON = textwrap.dedent("""
    import sys, time
    from monitor.app import App
    from monitor.config import load_config_text
    from monitor.daemon import Daemon
    from monitor.logging import setup_logging
    from monitor.models import Post
    from monitor.sources.base import SOURCES, Batch, Source
    from datetime import datetime, timezone

    @SOURCES.register("slow")
    class Slow(Source):
        default_schedule = "1h"
        def fetch(self, cursor):
            page = cursor.get("page", 0)
            while page < 50:
                page += 1
                print(f"page {page}", flush=True)
                time.sleep(0.3)
                yield Batch([Post("slow", self.name, str(page), "x", datetime.now(timezone.utc))], {"page": page})

    setup_logging()
    config = load_config_text("sources:\\n  - {name: s, type: slow}\\n", env={})
    Daemon(App(config, db_path=sys.argv[1], detectors=[])).run()
""")


def test_sigterm_finishes_the_current_batch_and_exits_cleanly(tmp_path):
    db = tmp_path / "d.db"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SOURCE_DAEMON, str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("page 3"):
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "monitor daemon stopped" in err
    from monitor.store import open_store

    store = open_store(db)
    stored = store.count_posts()
    assert 3 <= stored < 50  # stopped early, after finishing the page in hand
    assert store.get_cursor("s") == {"page": stored}  # the cursor matches what was committed
    store.close()


def test_second_daemon_on_the_same_database_exits_at_once(tmp_path):
    (tmp_path / "config.yaml").write_text("storage:\n  path: m.db\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(tmp_path / "config.yaml")],
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert wait_for(lambda: (tmp_path / "m.db.lock").exists() and (tmp_path / "m.db.lock").read_text().strip())
        started = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "monitor", "run", "--config", str(tmp_path / "config.yaml")],
                                capture_output=True, text=True, timeout=60, env=env)
        assert second.returncode == 1
        assert "already running" in second.stderr and str(first.pid) in second.stderr
        assert time.monotonic() - started < 30
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0
