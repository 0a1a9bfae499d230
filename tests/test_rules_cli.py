"""`monitor rules validate|test|explain|backtest|list|schema` and `monitor score` with match rules."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from rules_helpers import T0, feed, post_line, rules_app, write_rules

RULES = """\
rules:
  - id: takeover
    title: Takeover
    type: match
    severity: critical
    match:
      all:
        - keywords: {en: [hacked], zh: [被盗]}
        - not: {author: [okx]}
    tests:
      - {text: "my account was hacked", expect: match}
      - {text: "账号被盗", expect: match}
      - {text: "hacked", author: OKX, expect: no_match}
  - id: stuck
    title: Stuck
    type: threshold
    window: 15m
    min_count: 3
    match: {keywords: [withdrawal]}
    tests:
      - posts: [{at: 1m, text: withdrawal stuck, repeat: 3, every: 1m}]
        expect_findings: [{at: 5m}, {at: 10m}, {at: 15m}]
"""


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path):
    rules_app(tmp_path, RULES).close()  # writes config.yaml and rules.yaml
    return tmp_path


def test_validate_ok_and_errors(project):
    result = run("rules", "validate", "--config", str(project / "config.yaml"))
    assert result.exit_code == 0 and "ok: 2 rules (2 enabled; 1 match, 1 threshold) in 1 file(s)" in result.output
    bad = write_rules(project, RULES.replace("min_count: 3", "min_count: 3\n    colour: red"), "bad.yaml")
    result = run("rules", "validate", str(bad), "--config", str(project / "config.yaml"))
    assert result.exit_code == 2
    assert f"{bad}:19:5: rules.1.colour: unknown key" in result.output


def test_validate_checks_routes_against_the_config(project):
    rules = write_rules(project, RULES.replace("severity: critical", "severity: critical\n    route: [pager]"), "r.yaml")
    result = run("rules", "validate", str(rules), "--config", str(project / "config.yaml"))
    assert result.exit_code == 2 and "route names channel 'pager'" in result.output


def test_test_command_passes_and_reports_failures(project):
    result = run("rules", "test", "--config", str(project / "config.yaml"))
    assert result.exit_code == 0 and "4 passed, 0 failed (4 cases in 2 rules)" in result.output
    failing = write_rules(project, RULES.replace('{text: "账号被盗", expect: match}',
                                                 '{text: "账号很安全", expect: match, name: safe}'), "f.yaml")
    result = run("rules", "test", str(failing), "--config", str(project / "config.yaml"))
    assert result.exit_code == 1
    out = result.output
    assert "FAIL takeover test #2 (safe) [post]" in out and "expected: match" in out and "happened: no_match" in out
    assert "text: '账号很安全'" in out and "decided by: keywords [en: hacked; zh: 被盗] (none of 2 keywords found)" in out
    assert "3 passed, 1 failed" in out
    failing = write_rules(project, RULES.replace("expect_findings: [{at: 5m}, {at: 10m}, {at: 15m}]",
                                                 "expect_findings: [{at: 5m}]"), "g.yaml")
    result = run("rules", "test", str(failing), "--rule", "stuck", "--config", str(project / "config.yaml"))
    assert result.exit_code == 1
    assert "unexpected finding +10m" in result.output and "counts rule:stuck: +0s:3" in result.output


def test_explain_a_stored_post(project):
    app = rules_app(project, RULES)
    feed(app, [post_line(1, "My account was hacked", minutes=1, author="alice")])
    app.close()
    result = run("rules", "explain", "takeover", "--post", "file-a:1", "--config", str(project / "config.yaml"))
    assert result.exit_code == 0, result.output
    assert "[MATCH] keywords [en: hacked; zh: 被盗]: found 'hacked'" in result.output
    assert "=> the post MATCHES the rule's conditions" in result.output
    result = run("rules", "explain", "stuck", "--post", "file-a:1", "--config", str(project / "config.yaml"))
    assert "does NOT match" in result.output and "none of 1 keywords found" in result.output
    result = run("rules", "explain", "takeover", "--post", "file-a:404", "--config", str(project / "config.yaml"))
    assert result.exit_code == 1 and "no stored post" in result.output


def test_backtest_reports_per_rule_and_day_and_writes_nothing(project):
    app = rules_app(project, "rules: []\n")  # history collected without these rules
    feed(app, [post_line(i, "withdrawal stuck", minutes=60 * 24 + i) for i in range(4)]
         + [post_line(10, "I was hacked", minutes=60 * 30), post_line(11, "fine", minutes=60 * 50)])
    findings_before = app.store.count_findings()
    app.close()
    draft = write_rules(project, RULES.replace("type: match", "type: match\n    enabled: false"), "draft.yaml")
    args = ["rules", "backtest", "--since", "2026-03-01T00:00:00Z", "--until", "2026-03-05T00:00:00Z",
            "--rules-path", str(draft), "--config", str(project / "config.yaml")]
    result = run(*args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "takeover [match] (disabled): 1 findings, 1 incidents" in out
    assert "stuck [threshold]: 3 findings, 1 incidents" in out
    assert "2026-03-03  3         1" in out and "I was hacked" in out
    data = json.loads(run(*args, "--json").output)
    [stuck] = [r for r in data["rules"] if r["rule_id"] == "stuck"]
    assert stuck["per_day"] == {"2026-03-03": {"findings": 3, "incidents": 1}} and data["posts"] == 6
    app = rules_app(project, "rules: []\n")
    assert app.store.count_findings() == findings_before == 0
    only = run(*args[:2], "takeover", *args[2:], "--json")
    assert [r["rule_id"] for r in json.loads(only.output)["rules"]] == ["takeover"]


def test_list_and_schema(project):
    result = run("rules", "list", "--config", str(project / "config.yaml"))
    assert "takeover  match" in result.output and "stuck     threshold" in result.output
    schema = json.loads(run("rules", "schema").output)
    assert schema["$schema"].endswith("2020-12/schema") and "rules" in schema["properties"]


def test_score_lists_the_match_rules_that_fire(project):
    # score reads the real stdin (by file descriptor), so it runs in a subprocess
    result = subprocess.run([sys.executable, "-m", "monitor", "score", "--text", "--config",
                             str(project / "config.yaml")], input="my account was hacked\nwithdrawal stuck\n",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["rules"] for line in lines] == [["takeover"], []]  # threshold rules are not per post


def test_shipped_rules_are_the_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config.yaml here: built-in defaults, rules.paths = ["@builtin"]
    result = run("rules", "validate")
    assert result.exit_code == 0 and "in 4 file(s)" in result.output
    assert T0.weekday() == 0
