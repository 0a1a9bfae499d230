"""Rule files -> a RuleSet, with every problem located by file, line and column.

Paths come from the config (`rules.paths`, relative to the config file) or the command line; a
folder means every *.yaml / *.yml file under it, and `@builtin` means the packs shipped with
the product. All files are validated together (rule ids are unique across files) and compiled
into one set, or a ConfigError lists every problem found.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from pydantic import ValidationError

from ...config.yamlpos import LoadedYaml, load_yaml_file
from ...errors import ConfigError, Location
from ...paths import builtin_rules_dir
from .compiler import RuleSource
from .model import CONDITION_KEYS, RuleFile
from .ruleset import RuleSet

if TYPE_CHECKING:
    from ...config import AppConfig

BUILTIN = "@builtin"
RULE_SUFFIXES = (".yaml", ".yml")
Problems = list[tuple[Location, str]]


def configured_paths(config: "AppConfig") -> list[Path]:
    """The rule paths of a config, resolved against the config file's folder."""
    out: list[Path] = []
    missing: Problems = []
    for i, entry in enumerate(config.settings.rules.paths):
        if entry == BUILTIN:
            root = builtin_rules_dir()
            if root is None:
                raise ConfigError([(Location(config.file, key="rules.paths"),
                                    "@builtin: the shipped rule packs are not installed")])
            out.append(root)
        else:
            path = config.resolve(entry)
            if not path.exists():  # named at its line in the config, not only by the path it resolves to
                missing.append((config.location(("rules", "paths", i)), f"no such rule file or folder: {path}"))
            out.append(path)
    if missing:
        raise ConfigError(missing)
    return out


def rule_files(paths: Iterable[Path], problems: Problems) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file()
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        elif path.is_file():
            files.append(path)
        else:
            problems.append((Location(str(path)), "no such rule file or folder"))
    return list(dict.fromkeys(files))


def load_rules(paths: Sequence[Path], bucket: timedelta = timedelta(minutes=5),
               channels: set[str] | None = None) -> RuleSet:
    """Validate and compile every rule file under `paths`; raise ConfigError listing all problems."""
    problems: Problems = []
    files = rule_files(paths, problems)
    digest = hashlib.sha256()
    sources: list[RuleSource] = []
    warnings: list[str] = []
    for path in files:
        try:
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
            loaded = load_yaml_file(path)
        except OSError as exc:
            problems.append((Location(str(path)), f"cannot read file: {exc.strerror}"))
            continue
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        sources.extend(parse_rule_file(loaded, problems))
    seen: dict[str, Location] = {}
    for src in sources:
        where = src.locate(("id",))
        if src.spec.id in seen:
            problems.append((where, f"duplicate rule id {src.spec.id!r} (first defined at {seen[src.spec.id]})"))
        else:
            seen[src.spec.id] = where
        if channels is not None:
            for j, name in enumerate(src.spec.route):
                if name not in channels:
                    problems.append((src.locate(("route", j)), f"route names channel {name!r}, which is not "
                                                               "defined under channels in the config"))
        if not src.spec.tests:
            warnings.append(f"{where}: rule {src.spec.id!r} has no tests")
    try:
        ruleset = RuleSet(sources, bucket, files, digest.hexdigest(), warnings)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p[0].file or "", p[0].line or 0, p[0].column or 0)))
    return ruleset


def load_ruleset(config: "AppConfig", paths: Sequence[Path] | None = None, check_routes: bool = True) -> RuleSet:
    """The rules a config names (or `paths`), checked against its channels and detection bucket."""
    channels = {c.name for c in config.settings.channels} if check_routes else None
    return load_rules(list(paths) if paths else configured_paths(config), config.settings.detection.bucket, channels)


def parse_rule_file(loaded: LoadedYaml, problems: Problems) -> list[RuleSource]:
    data = loaded.data
    if data is None:
        return []
    if not isinstance(data, dict):
        problems.append((loaded.location(()), "a rule file is a mapping with a `rules:` list"))
        return []
    try:
        parsed = RuleFile.model_validate(data)
    except ValidationError as exc:
        problems.extend(schema_problems(exc, loaded))
        return []
    return [RuleSource(spec, _locator(loaded, i), loaded.file) for i, spec in enumerate(parsed.rules)]


def _locator(loaded: LoadedYaml, index: int):
    def locate(path: tuple) -> Location:
        return loaded.location(("rules", index) + tuple(path))

    return locate


# --- pydantic errors -> located problems -----------------------------------------------------

_TAG_PREFIXES = ("cond[", "type[", "case[")


def _is_label(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part.startswith("function-") or part in _SCALAR_LABELS)


_SCALAR_LABELS = {"str", "int", "float", "bool", "constrained-str", "enum"}


def _value_at(data: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _label_fits(label: str, value: Any) -> bool:
    if label.startswith("list["):
        return isinstance(value, list)
    if label.startswith("dict["):
        return isinstance(value, dict)
    if label in ("str", "constrained-str", "enum"):
        return isinstance(value, str)
    if label in ("int", "float"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if label == "bool":
        return isinstance(value, bool)
    return False


def schema_problems(exc: ValidationError, loaded: LoadedYaml) -> Problems:
    """pydantic errors as (location, message), keeping, for a value that could take several shapes
    (a string or a list, a list or a mapping), only the errors of the shape actually written."""
    entries = []
    for err in exc.errors():
        raw = tuple(err["loc"])
        branch_at = next((k for k, p in enumerate(raw) if _is_label(p) and not str(p).startswith(_TAG_PREFIXES)),
                         None)
        clean = tuple(p for p in raw if not _is_label(p))
        point = tuple(p for p in raw[:branch_at] if not _is_label(p)) if branch_at is not None else None
        label = raw[branch_at] if branch_at is not None else None
        entries.append((clean, point, label, err))
    fitting = {point for _, point, label, _ in entries
               if point is not None and _label_fits(label, _value_at(loaded.data, point))}
    by_loc: dict[tuple, list[str]] = {}
    for clean, point, label, err in entries:
        if point in fitting and not _label_fits(label, _value_at(loaded.data, point)):
            continue
        loc, msg = clean, err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; unknown keys are errors)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif err["type"] == "rule_type":
            if isinstance(_value_at(loaded.data, loc), dict) and "type" in _value_at(loaded.data, loc):
                loc = loc + ("type",)
                msg = f"unknown rule type {_value_at(loaded.data, loc)!r}: " + msg
            else:
                msg = "required key `type` is missing: " + msg
        elif err["type"] == "condition" and isinstance(_value_at(loaded.data, loc), dict):
            keys = list(_value_at(loaded.data, loc))
            msg = f"unknown condition {', '.join(map(str, keys)) or '(empty)'}; expected one of " + \
                  ", ".join(CONDITION_KEYS)
        msgs = by_loc.setdefault(loc, [])
        if msg not in msgs:
            msgs.append(msg)
    problems: Problems = []
    for loc, msgs in by_loc.items():
        if len(msgs) > 1 and all(x.startswith("Input should be ") for x in msgs):
            msgs = ["Input should be " + " or ".join(x.removeprefix("Input should be ") for x in msgs)]
        problems.extend((loaded.location(loc), msg) for msg in msgs)
    return problems
