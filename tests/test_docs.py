"""Docs as tests: every config key and every command is documented."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel

from monitor.config import load_config_text
from monitor.config.model import DetectionSettings, RulesSettings, Settings, StorageSettings
from monitor.alerts.settings import DeliverySettings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_top_level_section_and_core_key_is_in_configuration_md():
    text = (DOCS / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in text, f"docs/configuration.md does not mention the section {name}"
    for model in (StorageSettings, DetectionSettings, RulesSettings, DeliverySettings):
        for name in model.model_fields:
            assert f"`{name}`" in text, f"docs/configuration.md does not mention {model.__name__}.{name}"


def test_configuration_example_is_valid():
    text = (DOCS / "configuration.md").read_text()
    example = text.split("```yaml", 1)[1].split("```", 1)[0]
    config = load_config_text(example, env={"PAGERDUTY_ROUTING_KEY": "x" * 32,
                                            "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/C"})
    assert [s.name for s in config.settings.sources] == ["okx-google-play", "x-brand"]
    assert yaml.safe_load(example)["routes"][0]["severity_at_least"] == "high"


def test_cli_reference_in_readme_lists_every_top_level_command():
    from monitor.cli import cli

    readme = (DOCS.parent / "README.md").read_text()
    for name in cli.commands:
        assert f"`monitor {name}" in readme, f"README.md does not mention `monitor {name}`"


def test_readme_try_it_block_runs_and_shows_posts_and_incidents(tmp_path, monkeypatch):
    """The newcomer's first session, as the README writes it (with fewer posts, and in tmp_path)."""
    import contextlib
    import shlex

    from click.testing import CliRunner

    from monitor import synthetic
    from monitor.cli import cli

    readme = (DOCS.parent / "README.md").read_text()
    block = readme.split("## Try it without the internet", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    outputs = {}
    for line in filter(None, (l.strip() for l in block.splitlines())):
        argv = [a.replace("/tmp/demo.db", str(tmp_path / "demo.db")) for a in shlex.split(line, comments=True)]
        if argv[:3] == ["python", "-m", "monitor.synthetic"]:
            args, target = argv[3:argv.index(">")], argv[argv.index(">") + 1]
            args[args.index("--posts") + 1] = "3000"  # the README's 20,000, scaled down for the suite
            with open(target, "w") as out, contextlib.redirect_stdout(out):
                synthetic.main(args)
            continue
        assert argv[0] == "monitor", line
        result = CliRunner().invoke(cli, argv[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        outputs[" ".join(argv[1:3])] = result.output
    assert "posts stored: 3000 new" in outputs["replay week.jsonl"]
    assert "open" in outputs["incidents list"]
    found = outputs["posts search"]
    assert "no matching posts" not in found and "withdrawal" in found.lower()
