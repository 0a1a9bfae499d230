"""Load and validate the YAML config: errors name the file, line and key.

    settings = load_config("config.yaml")        # -> AppConfig
    settings = load_config(None)                 # built-in defaults

Plugin options (`sources[].options`, `channels[].options`) are validated by the plugin's own
Options model, so a typo in a source's option is an error at its line like any other.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from pydantic import BaseModel, SecretStr, ValidationError

from ..errors import ConfigError, Location
from .model import ChannelEntry, Settings, SourceEntry
from .yamlpos import LoadedYaml, load_yaml, load_yaml_file

DEFAULT_CONFIG = "config.yaml"
MASK = "********"


@dataclass
class AppConfig:
    settings: Settings
    file: str | None  # None: built-in defaults
    base_dir: Path  # relative paths in the config resolve against this
    source_options: dict[str, BaseModel] = field(default_factory=dict)  # validated, by source name
    channel_options: dict[str, BaseModel] = field(default_factory=dict)
    secret_values: set[str] = field(default_factory=set)
    secret_paths: set[tuple] = field(default_factory=set)
    raw: Any = None
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)  # of keys in the file

    def location(self, path: tuple) -> Location:
        """Where `path` (e.g. ("rules", "paths", 0)) is in the config file, for errors found later."""
        return LoadedYaml(None, self.file or "<built-in defaults>", self.positions).location(path)

    def resolve(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def db_path(self) -> Path:
        return self.resolve(self.settings.storage.path)

    def missing_env(self, entry: SourceEntry | ChannelEntry) -> list[str]:
        return [name for name in entry.requires_env if not os.environ.get(name)]

    def active_sources(self) -> list[SourceEntry]:
        return [s for s in self.settings.sources if s.enabled and not self.missing_env(s)]

    def masked(self) -> Any:
        """The config as loaded, with every value that came from an environment variable masked."""
        return _mask(self.raw, (), self.secret_paths)


def example_config_text() -> str:
    """The commented config `monitor init` writes: example.yaml with the collectors' example sources."""
    from ..sources import example_sources_yaml

    template = (Path(__file__).parent / "example.yaml").read_text(encoding="utf-8")
    sources = "\n".join(("  " + line) if line.strip() else "" for line in example_sources_yaml().splitlines())
    return template.replace("sources: []  # @example-sources", "sources:\n" + sources.rstrip())


def load_config(path: str | Path | None, env: Mapping[str, str] | None = None,
                explicit: bool = False) -> AppConfig:
    """Load `path`; a missing default `config.yaml` (explicit=False) means built-in defaults."""
    if path is None or (not explicit and not Path(path).exists()):
        return AppConfig(settings=Settings(), file=None, base_dir=Path.cwd(), raw={})
    loaded = load_yaml_file(path, env)
    return validate(loaded, base_dir=Path(path).resolve().parent)


def load_config_text(text: str, file: str = "<config>", env: Mapping[str, str] | None = None,
                     base_dir: Path | None = None) -> AppConfig:
    return validate(load_yaml(text, file, env), base_dir=base_dir or Path.cwd())


def validate(loaded: LoadedYaml, base_dir: Path) -> AppConfig:
    data = loaded.data if loaded.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError([(loaded.location(()), "the config file must be a mapping of sections")])
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(pydantic_problems(exc, loaded)) from None
    config = AppConfig(settings=settings, file=loaded.file, base_dir=base_dir, raw=data,
                       secret_values=loaded.secret_values, secret_paths=loaded.secret_paths,
                       positions=loaded.positions)
    problems: list[tuple[Location, str]] = []
    _validate_plugins(config, loaded, problems)
    _check_references(config, loaded, problems)
    if problems:
        raise ConfigError(problems)
    from ..logging import register_secrets

    register_secrets(config.secret_values)
    return config


def pydantic_problems(exc: ValidationError, loaded: LoadedYaml, prefix: tuple = ()) -> list[tuple[Location, str]]:
    problems = []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        # pydantic adds the union member or validator name to some locations; keep real keys
        loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; unknown keys are errors)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        problems.append((loaded.location(loc), msg.removeprefix("Value error, ")))
    return problems


def _validate_plugins(config: AppConfig, loaded: LoadedYaml, problems: list) -> None:
    from ..alerts.base import CHANNELS
    from ..sources.base import SOURCES

    groups: Iterable[tuple[str, list, Any, dict]] = (
        ("sources", config.settings.sources, SOURCES, config.source_options),
        ("channels", config.settings.channels, CHANNELS, config.channel_options),
    )
    for section, entries, registry, out in groups:
        for i, entry in enumerate(entries):
            try:
                cls = registry.get(entry.type)
            except LookupError as exc:
                problems.append((loaded.location((section, i, "type")), str(exc)))
                continue
            except ImportError as exc:
                problems.append((loaded.location((section, i, "type")),
                                 f"{entry.type} needs a package that is not installed: {exc.name}"))
                continue
            try:
                out[entry.name] = options = cls.Options.model_validate(entry.options)
            except ValidationError as exc:
                problems.extend(pydantic_problems(exc, loaded, (section, i, "options")))
                continue
            # options the plugin declares secret (SecretStr) are masked when shown, whatever their key
            for name in type(options).model_fields:
                value = getattr(options, name)
                items = value if isinstance(value, list) else [value]
                if any(isinstance(v, SecretStr) for v in items):
                    config.secret_paths.add((section, i, "options", name))


def _check_references(config: AppConfig, loaded: LoadedYaml, problems: list) -> None:
    channels = {c.name for c in config.settings.channels}
    for i, route in enumerate(config.settings.routes):
        for j, name in enumerate(route.channels):
            if name not in channels:
                problems.append((loaded.location(("routes", i, "channels", j)),
                                 f"route names channel {name!r}, which is not defined under channels"))
    for i, digest in enumerate(config.settings.digests):
        for j, name in enumerate(digest.channels):
            if name not in channels:
                problems.append((loaded.location(("digests", i, "channels", j)),
                                 f"digest names channel {name!r}, which is not defined under channels"))


_SECRET_KEY = re.compile(r"(token|password|passwd|secret|api_key|apikey|routing_key|webhook|credential)", re.I)


def _mask(value: Any, path: tuple, secret_paths: set[tuple]) -> Any:
    if path in secret_paths:
        return MASK
    if isinstance(value, str) and path and isinstance(path[-1], str) and _SECRET_KEY.search(path[-1]) \
            and not path[-1].endswith("_env"):
        return MASK
    if isinstance(value, dict):
        return {k: _mask(v, path + (k,), secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, path + (i,), secret_paths) for i, v in enumerate(value)]
    return value
