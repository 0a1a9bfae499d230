"""The command line as a user runs it (in-process through click's runner, or as a subprocess)."""

from __future__ import annotations

import json
import socket
import sqlite3

import yaml
from click.testing import CliRunner

from conftest import post_line
from monitor.cli import cli


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_init_writes_config_rules_and_storage(tmp_path):
    result = run("init", str(tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m" / "config.yaml").exists() and (tmp_path / "m" / "storage").is_dir()
    assert (tmp_path / "m" / "rules").is_dir()
    again = run("init", str(tmp_path / "m"))
    assert again.exit_code == 1 and "already exists" in again.output
    check = run("config", "check", "--config", str(tmp_path / "m" / "config.yaml"))
    assert check.exit_code == 0 and "okx-google-play (google_play): active" in check.output


def test_init_keeps_rule_packs_already_there_and_says_so(tmp_path):
    first = run("init", str(tmp_path / "m"))
    packs = sorted(p.name for p in (tmp_path / "m" / "rules").glob("*.yaml"))
    assert f"{len(packs)} rule pack(s) in" in first.output and packs
    edited = tmp_path / "m" / "rules" / packs[0]
    edited.write_text(edited.read_text("utf-8") + "# my edit\n", "utf-8")
    (tmp_path / "m" / "config.yaml").unlink()
    second = run("init", str(tmp_path / "m"))
    assert second.exit_code == 0, second.output
    assert f"0 rule pack(s) (kept the {len(packs)} already there) in" in second.output
    assert edited.read_text("utf-8").endswith("# my edit\n")  # the user's edit survives


def test_config_errors_exit_2_with_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("storage:\n  path: x.db\ndetection:\n  bukket: 5m\n")
    result = run("config", "check", "--config", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:4:3: detection.bukket: unknown key" in result.output


def test_run_once_without_network_reports_each_source_and_keeps_the_db(tmp_path, monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    run("init", str(tmp_path))
    config_path = tmp_path / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    port = closed_port()  # nothing listens: every request fails at once, and never leaves the machine
    for source in config["sources"]:
        source["options"].update(base_url=f"http://127.0.0.1:{port}", retries=0, politeness_delay_s=0)
    config_path.write_text(yaml.safe_dump(config))
    result = run("run", "--once", "--config", str(config_path))
    assert result.exit_code == 1
    active = [s["name"] for s in config["sources"] if not s.get("requires_env")]
    for name in active:
        assert f"{name}: FAILED" in result.output
    assert "x-okx-mexc" not in result.output  # skipped: no token
    db = sqlite3.connect(tmp_path / "storage" / "monitor.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    status = json.loads(run("status", "--json", "--config", str(config_path)).output)
    assert {"posts", "incidents_open", "notifications_pending", "notifications_failed", "sources"} <= set(status)
    failing = {s["name"] for s in status["sources"] if s["state"] == "failing"}
    assert failing == set(active)
    assert all(s["last_error"] for s in status["sources"] if s["name"] in active)


def test_replay_status_and_search(tmp_path):
    db = str(tmp_path / "r.db")
    lines = [post_line(1, "提现一直不到账", source="gp"), post_line(2, "login works again", source="gp", minutes=5),
             "{oops", post_line(3, "withdrawal stuck", source="reddit", minutes=7)]
    (tmp_path / "posts.jsonl").write_text("\n".join(lines) + "\n")
    result = run("replay", str(tmp_path / "posts.jsonl"), "--db", db)
    assert result.exit_code == 2  # a line was rejected
    assert "posts.jsonl:3: rejected: invalid JSON" in result.output
    assert "posts stored: 3 new" in result.output
    again = run("replay", str(tmp_path / "posts.jsonl"), "--db", db)
    assert "posts stored: 0 new, 0 edited; duplicates: 3" in again.output
    status = json.loads(run("status", "--json", "--db", db).output)
    assert status["posts"] == 3 and {s["name"] for s in status["sources"]} == set()
    found = run("posts", "search", "到账", "--db", db, "--json")
    assert [json.loads(l)["id"] for l in found.output.splitlines()] == ["1"]
    found = run("posts", "search", "--source", "reddit", "--db", db)
    assert "reddit:3" in found.output and "gp:" not in found.output
    shown = run("posts", "show", "gp:2", "--db", db)
    assert "login works again" in shown.output


def test_score_is_a_filter_in_order_with_errors_inline():
    lines = [json.dumps({"source": "x", "id": "a1", "created_at": "2026-01-01T00:00:00Z", "text": "great app"}),
             "not json",
             json.dumps({"source": "x", "id": 7, "created_at": "2026-01-01T00:00:00Z", "text": "hacked"})]
    result = run("score", "--no-rules", input="\n".join(lines) + "\n")
    out = [json.loads(l) for l in result.output.splitlines() if l.startswith("{")]
    assert [o["id"] for o in out] == ["a1", None, 7]
    assert out[1]["line"] == 2 and "invalid JSON" in out[1]["error"]
    assert set(out[0]) == {"id", "lang", "sentiment", "categories", "security", "rules"}
    assert out[0]["sentiment"]["label"] in {"negative", "neutral", "positive"}
    assert -1 <= out[0]["sentiment"]["score"] <= 1
    assert result.exit_code == 2


def test_score_text_mode_numbers_lines():
    result = run("score", "--text", "--no-rules", input="one\n\nthree\n")
    out = [json.loads(l) for l in result.output.splitlines()]
    assert [o["id"] for o in out] == [1, 2, 3] and result.exit_code == 0


def test_every_command_has_help_with_an_example():
    def walk(group, prefix):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from walk(command, prefix + [name])
            else:
                yield prefix + [name], command

    for path, command in walk(cli, []):
        assert command.help, f"monitor {' '.join(path)} has no help"
        result = run(*path, "--help")
        assert result.exit_code == 0
        # every command takes --config and --db (issue 2), so a script can pass them to any verb
        result = CliRunner().invoke(cli, [*path, "--config", "c.yaml", "--db", "m.db", "--help"])
        assert result.exit_code == 0, f"monitor {' '.join(path)}: {result.output}"


def test_init_writes_the_config_where_config_says_with_the_db_path_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("init", "--config", "site/monitor.yaml", "--db", "data/m.db")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "rules").is_dir() and (tmp_path / "site" / "storage").is_dir()
    from monitor.config import load_config

    config = load_config(tmp_path / "site" / "monitor.yaml", env={}, explicit=True)
    assert config.db_path == tmp_path / "data" / "m.db"  # --db is relative to where the command runs
    assert "rules" in config.settings.rules.paths
    clash = run("init", "elsewhere", "--config", "site/other.yaml")
    assert clash.exit_code == 2 and "give one or the other" in clash.output


def test_score_reports_the_match_rules_that_fire(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config.yaml here: built-in defaults, the shipped rule packs
    result = run("score", "--text", input="My account was hacked and someone withdrew all my USDT\n"
                                           "账户被盗了，资产被转走\nGreat app, love it\n")
    hacked, zh, praise = [json.loads(l) for l in result.output.splitlines()]
    assert hacked["security"] and "security.account_takeover" in hacked["rules"]
    assert zh["lang"] == "zh" and zh["sentiment"]["label"] == "negative" and "security" in zh["categories"]
    assert "security.account_takeover" in zh["rules"]
    assert praise["sentiment"]["label"] == "positive" and praise["rules"] == []


def test_config_check_refuses_rules_the_daemon_would_refuse(tmp_path):
    missing = tmp_path / "missing.yaml"
    missing.write_text("storage:\n  path: m.db\nrules:\n  paths: [rules, rulez]\n")
    (tmp_path / "rules").mkdir()
    result = run("config", "check", "--config", str(missing))
    assert result.exit_code == 2 and "ok:" not in result.output
    assert f"{missing}:4:18: rules.paths.1: no such rule file or folder" in result.output
    (tmp_path / "rules" / "mine.yaml").write_text("rules:\n  - id: mine.one\n    typo: 1\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("storage:\n  path: m.db\nrules:\n  paths: [rules]\n")
    result = run("config", "check", "--config", str(broken))
    assert result.exit_code == 2 and "mine.yaml:2:5: rules.0: required key `type` is missing" in result.output
    (tmp_path / "rules" / "mine.yaml").unlink()
    result = run("config", "check", "--config", str(broken))
    assert result.exit_code == 0 and "rules: 0 (0 enabled) in 0 file(s)" in result.output
