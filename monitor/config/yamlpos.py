"""YAML loading that remembers where every key and value came from.

pydantic reports errors by location tuples such as ("sources", 2, "options", "url"); with the
positions recorded here, each error names the file, line and column of the offending key.
`${VAR}` and `${VAR:-default}` in string values are substituted from the environment, and the
paths of substituted values are remembered so that printing the config masks them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import ConfigError, Location

Path_ = tuple[str | int, ...]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class LoadedYaml:
    data: Any
    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # 1-based line, column
    secret_paths: set[Path_] = field(default_factory=set)
    secret_values: set[str] = field(default_factory=set)

    def location(self, path: Path_) -> Location:
        """The location of the deepest part of `path` that exists in the file."""
        key = ".".join(str(p) for p in path)
        for n in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:n]))
            if pos:
                return Location(self.file, pos[0], pos[1], key or None)
        return Location(self.file, None, None, key or None)


def load_yaml(text: str, file: str, env: Mapping[str, str] | None = None) -> LoadedYaml:
    env = os.environ if env is None else env
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([(loc, f"invalid YAML: {problem}")]) from None
    loaded = LoadedYaml(data=None, file=file)
    problems: list[tuple[Location, str]] = []
    loaded.data = _convert(root, (), loaded, env, problems) if root is not None else None
    if problems:
        raise ConfigError(problems)
    return loaded


def load_yaml_file(path: str | Path, env: Mapping[str, str] | None = None) -> LoadedYaml:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([(Location(str(path)), f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([(Location(str(path)), f"not UTF-8 text: {exc.reason} at byte {exc.start}")]) from None
    return load_yaml(text, str(path), env)


_CONSTRUCTOR = yaml.SafeLoader("")  # only used to construct scalar nodes


def _convert(node: yaml.Node, path: Path_, out: LoadedYaml, env: Mapping[str, str], problems: list) -> Any:
    out.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _CONSTRUCTOR.construct_object(key_node)  # scalar keys only
            if isinstance(key, (dict, list)):
                problems.append((Location(out.file, key_node.start_mark.line + 1), "keys must be plain scalars"))
                continue
            child = path + (str(key),)
            if str(key) in {str(k) for k in result}:
                problems.append((Location(out.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                          ".".join(map(str, child))), "duplicate key"))
            out.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[str(key)] = _convert(value_node, child, out, env, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), out, env, problems) for i, item in enumerate(node.value)]
    value = _CONSTRUCTOR.construct_object(node)
    if isinstance(value, str) and "${" in value:
        value = _substitute(value, path, node, out, env, problems)
    return value


def _substitute(value: str, path: Path_, node: yaml.Node, out: LoadedYaml, env: Mapping[str, str],
                problems: list) -> Any:
    def replace(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and env[name] != "":
            out.secret_values.add(env[name])
            return env[name]
        if default is not None:
            return default
        loc = Location(out.file, node.start_mark.line + 1, node.start_mark.column + 1, ".".join(map(str, path)))
        problems.append((loc, f"environment variable {name} is not set"))
        return ""

    out.secret_paths.add(path)
    return _ENV.sub(replace, value)
