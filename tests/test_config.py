import pytest

from monitor.config import load_config, load_config_text
from monitor.errors import ConfigError


def problems(text: str, env=None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, file="cfg.yaml", env=env or {})
    return [f"{loc}: {msg}" for loc, msg in info.value.problems]


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config("config.yaml")  # not there, not explicit: built-in defaults
    assert config.file is None
    assert config.settings.storage.path == "storage/monitor.db"
    assert config.settings.detection.bucket.total_seconds() == 300
    assert config.db_path == tmp_path / "storage" / "monitor.db"


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "nope.yaml", explicit=True)


def test_unknown_key_names_file_line_and_key():
    out = problems("storage:\n  path: a.db\n  retension: 30d\n")
    assert out == ["cfg.yaml:3:3: storage.retension: unknown key (check the spelling; unknown keys are errors)"]


def test_wrong_type_names_line():
    out = problems("timezone: UTC\ndetection:\n  bucket: five minutes\n")
    assert len(out) == 1 and out[0].startswith("cfg.yaml:3:3: detection.bucket: expected a duration")


def test_missing_env_var_names_line_and_key():
    out = problems("storage:\n  path: ${DB_PATH}\n")
    assert out == ["cfg.yaml:2:9: storage.path: environment variable DB_PATH is not set"]


def test_env_default_and_substitution():
    config = load_config_text("storage:\n  path: ${DB_PATH:-x.db}\ntimezone: ${TZ_NAME}\n", env={"TZ_NAME": "Asia/Tokyo"})
    assert config.settings.storage.path == "x.db"
    assert config.settings.timezone == "Asia/Tokyo"


def test_secrets_are_masked_when_shown():
    config = load_config_text("storage:\n  path: ${SECRET_PATH}\n", env={"SECRET_PATH": "s3cr3t-value.db"})
    assert config.masked()["storage"]["path"] == "********"
    assert "s3cr3t" not in str(config.masked())


def test_secret_looking_keys_are_masked_even_when_literal():
    from monitor.config import _mask

    assert _mask({"routing_key": "abc123", "name": "x"}, (), set()) == {"routing_key": "********", "name": "x"}


def test_bad_timezone_and_duplicate_source_names():
    assert problems("timezone: Mars/Olympus\n")[0].startswith("cfg.yaml:1:1: timezone: unknown timezone")
    out = problems("sources:\n  - {name: a, type: rss}\n  - {name: a, type: rss}\n")
    assert any("duplicate source name 'a'" in p for p in out)


def test_invalid_yaml_reports_position():
    out = problems("storage:\n  path: [unclosed\n")
    assert out[0].startswith("cfg.yaml:") and "invalid YAML" in out[0]


def test_unknown_source_type_and_bad_plugin_option(monkeypatch):
    from pydantic import Field

    from monitor.sources.base import SOURCES, Source, SourceOptions

    class DummyOptions(SourceOptions):
        url: str = Field(...)

    @SOURCES.register("dummy-test")
    class Dummy(Source):
        Options = DummyOptions

        def fetch(self, cursor):
            return iter(())

    out = problems("sources:\n  - name: a\n    type: nosuch\n  - name: b\n    type: dummy-test\n"
                   "    options:\n      urll: x\n")
    assert any(p.startswith("cfg.yaml:3:5: sources.0.type: unknown source type 'nosuch'") for p in out)
    assert any(p.startswith("cfg.yaml:7:7: sources.1.options.urll: unknown key") for p in out)
    assert any(p.startswith("cfg.yaml:6:5: sources.1.options.url: required key is missing") for p in out)


def test_route_must_name_a_channel():
    out = problems("routes:\n  - channels: [pager]\n")
    assert out == ["cfg.yaml:2:16: routes.0.channels.0: route names channel 'pager', which is not defined under channels"]


def test_example_config_is_valid(monkeypatch):
    from monitor.config import example_config_text

    config = load_config_text(example_config_text(), env={})
    names = [s.name for s in config.settings.sources]
    assert "okx-google-play" in names and "mexc-google-play" in names
    x = next(s for s in config.settings.sources if s.type == "twitter")
    assert x.requires_env == ["X_BEARER_TOKEN"]
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    assert x.name not in [s.name for s in config.active_sources()]


def test_secret_values_are_scrubbed_from_logs(caplog):
    import logging

    from monitor.logging import SecretFilter

    load_config_text("storage:\n  path: ${TOKENISH}\n", env={"TOKENISH": "tok-abcdef-123456"})
    logger = logging.getLogger("test.secret")
    caplog.handler.addFilter(SecretFilter())
    logger.warning("calling with %s", "tok-abcdef-123456")
    assert "tok-abcdef-123456" not in caplog.text and "********" in caplog.text


def test_options_a_channel_declares_secret_are_masked_whatever_their_key():
    # apprise URLs hold tokens (SecretStr); the key `urls` does not look secret by its name
    config = load_config_text("channels:\n  - name: tg\n    type: apprise\n    options:\n"
                              "      urls: ['tgram://123456789:AAHliteralsecrettoken/12345']\n      body_format: text\n",
                              env={})
    options = config.masked()["channels"][0]["options"]
    assert options == {"urls": "********", "body_format": "text"}
