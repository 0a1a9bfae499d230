"""Hot reload: a valid change swaps the whole set; a broken file keeps the old rules and warns."""

import os

from click.testing import CliRunner

from monitor.cli import cli
from monitor.daemon import Daemon
from monitor.detect.rules.reload import RuleWatcher, rule_engine_of
from rules_helpers import feed, finding_times, post_line, rules_app

V1 = """\
rules:
  - id: a
    title: A
    type: match
    match: {keywords: [alpha]}
"""
V2 = V1 + """\
  - id: b
    title: B
    type: match
    match: {keywords: [beta]}
"""
BROKEN = V2 + "    sevrity: high\n"


def rewrite(path, text):
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a visibly newer file


def test_reload_swaps_valid_rules_and_keeps_old_ones_on_a_broken_file(tmp_path):
    app = rules_app(tmp_path, V1)
    engine = rule_engine_of(app)
    watcher = RuleWatcher(app, engine)
    path = tmp_path / "rules.yaml"
    assert watcher.check() is False  # nothing changed

    rewrite(path, V2)
    assert watcher.check() is True
    feed(app, [post_line(1, "alpha and beta", minutes=1)])
    assert sorted(f.finding.rule_id for f in app.store.findings()) == ["a", "b"]

    rewrite(path, BROKEN)
    assert watcher.check() is False
    assert [r.id for r in engine.ruleset.rules] == ["a", "b"]  # the previous set keeps running
    warnings = app.store.warnings()["rules"]
    assert "previous rules keep running" in warnings[0]
    assert warnings[1].startswith(f"{path}:10:5: rules.1.sevrity: unknown key")
    feed(app, [post_line(2, "beta again", minutes=2)])
    assert [m for m, _ in finding_times(app, "b")] == [1.0, 2.0]

    result = CliRunner().invoke(cli, ["status", "--config", str(tmp_path / "config.yaml"),
                                      "--db", str(tmp_path / "db.sqlite")])
    assert "warning: rules: rule files changed but are invalid" in result.output
    assert "sevrity: unknown key" in result.output

    rewrite(path, V1)
    assert watcher.check() is True
    assert [r.id for r in engine.ruleset.rules] == ["a"] and app.store.warnings() == {}


def test_an_emptied_file_keeps_its_rules_running(tmp_path):
    app = rules_app(tmp_path, V2)
    engine = rule_engine_of(app)
    watcher = RuleWatcher(app, engine)
    path = tmp_path / "rules.yaml"

    rewrite(path, "")  # an editor truncates the file before writing the new text
    assert watcher.check() is False
    assert [r.id for r in engine.ruleset.rules] == ["a", "b"]
    assert "the file is empty; the previous rules keep running" in app.store.warnings()["rules"][0]
    feed(app, [post_line(1, "beta", minutes=1)])
    assert [m for m, _ in finding_times(app, "b")] == [1.0]

    rewrite(path, "# only a comment\n\n")
    assert watcher.check() is False and [r.id for r in engine.ruleset.rules] == ["a", "b"]

    rewrite(path, V1)  # the save completes
    assert watcher.check() is True
    assert [r.id for r in engine.ruleset.rules] == ["a"] and app.store.warnings() == {}


def test_a_new_file_in_a_rules_folder_is_picked_up(tmp_path):
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "one.yaml").write_text(V1, encoding="utf-8")
    app = rules_app(tmp_path, "rules: []\n", config="")
    app.config.settings.rules.paths[:] = [str(rules_dir)]
    app._detectors = None
    watcher = RuleWatcher(app, rule_engine_of(app))
    (rules_dir / "two.yaml").write_text(V2.replace("id: a", "id: a2"), encoding="utf-8")
    assert watcher.check() is True
    assert sorted(r.id for r in rule_engine_of(app).ruleset.rules) == ["a", "a2", "b"]


def test_the_daemon_schedules_the_reload_job(tmp_path):
    app = rules_app(tmp_path, V1)
    daemon = Daemon(app)
    job = daemon.scheduler.get_job("rules-reload")
    assert job is not None and job.trigger.interval.total_seconds() == 10
    app.config.settings.rules.reload = False
    assert Daemon(app).scheduler.get_job("rules-reload") is None
