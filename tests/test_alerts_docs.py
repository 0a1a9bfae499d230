"""The config examples in docs/alerting.md load and validate (channel options included)."""

import re

from conftest import REPO

from monitor.config import load_config_text


def test_every_config_example_in_the_alerting_docs_is_valid(tmp_path):
    text = (REPO / "docs" / "alerting.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n# config\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    env = {"TELEGRAM_BOT_TOKEN": "123456:abcdef", "TELEGRAM_CHAT_ID": "-100123"}
    for block in blocks:
        config = load_config_text(block, file="docs/alerting.md", env=env, base_dir=tmp_path)
        assert config.settings is not None
    channels = load_config_text(blocks[0], env=env, base_dir=tmp_path).channel_options
    assert set(channels) == {"oncall", "tickets", "community"}
