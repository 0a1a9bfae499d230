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
