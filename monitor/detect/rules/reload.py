"""Hot reload: notice changed rule files, validate them, swap the whole set at once.

A daemon job polls the rule paths every few seconds (a cheap stat of each file; contents are
hashed only when something changed). A valid new set replaces the old one atomically; an
invalid one, or a file left empty (an editor half-way through a save), leaves the previous
rules running and shows the problems as warnings in `monitor status` until the files are fixed.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ...config.types import Schedule
from ...errors import ConfigError
from .engine import RuleEngine
from .loader import configured_paths, load_ruleset, rule_files

if TYPE_CHECKING:
    from ...app import App
    from ...daemon import JobSpec
    from ...pipeline import Pipeline

log = logging.getLogger(__name__)

POLL_EVERY = timedelta(seconds=10)
WARNINGS = "rules"
MAX_WARNINGS = 20


def _stat_signature(files: list[Path]) -> tuple:
    out = []
    for f in files:
        try:
            st = f.stat()
            out.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(f), None, None))
    return tuple(out)


def _read(files: list[Path]) -> dict[Path, bytes | None]:
    out: dict[Path, bytes | None] = {}
    for f in files:
        try:
            out[f] = f.read_bytes()
        except OSError:
            out[f] = None
    return out


def _content_digest(contents: dict[Path, bytes | None]) -> str:
    # the same digest as the loader's, so unchanged contents are recognised as the running set
    h = hashlib.sha256()
    for f, data in contents.items():
        h.update(str(f).encode() + b"\0" + (b"<unreadable>" if data is None else data) + b"\0")
    return h.hexdigest()


def _blank(data: bytes | None) -> bool:
    """Nothing but whitespace and comments: what an editor leaves for a moment while it saves."""
    if data is None:
        return False
    return all(not line.strip() or line.lstrip().startswith(b"#") for line in data.splitlines())


class RuleWatcher:
    def __init__(self, app: "App", engine: RuleEngine) -> None:
        self.app = app
        self.engine = engine
        self._signature = _stat_signature(self._files())
        self._digest = engine.ruleset.digest

    def _files(self) -> list[Path]:
        try:
            return rule_files(configured_paths(self.app.config), [])
        except ConfigError:
            return []

    def check(self) -> bool:
        """Reload if the rule files changed; True when a new rule set was swapped in."""
        files = self._files()
        signature = _stat_signature(files)
        if signature == self._signature:
            return False
        self._signature = signature
        contents = _read(files)
        digest = _content_digest(contents)
        if digest == self._digest:
            return False
        blank = [f for f, data in contents.items() if _blank(data)]
        if blank:
            # An empty rule file is valid YAML with no rules; taken at face value, a save caught
            # half-way would silently switch its rules off. Removing rules takes deleting the
            # file or `enabled: false`.
            self._digest = digest
            self.app.store.set_warnings(WARNINGS, [
                f"{f}: the file is empty; the previous rules keep running (delete the file to drop its "
                "rules, or disable them with enabled: false)" for f in blank[:MAX_WARNINGS]])
            log.warning("rule files are empty, keeping the previous rules: %s", ", ".join(map(str, blank)))
            return False
        try:
            ruleset = load_ruleset(self.app.config)
        except ConfigError as exc:
            self._digest = digest  # do not retry the same broken content every poll
            lines = [f"{loc}: {msg}" for loc, msg in exc.problems[:MAX_WARNINGS]]
            if len(exc.problems) > MAX_WARNINGS:
                lines.append(f"... and {len(exc.problems) - MAX_WARNINGS} more problems")
            self.app.store.set_warnings(WARNINGS, ["rule files changed but are invalid; the previous rules keep "
                                                   "running until they are fixed (monitor rules validate)", *lines])
            log.error("rule files changed but are invalid; keeping the previous rules:\n%s", exc)
            return False
        self._digest = ruleset.digest
        self.engine.swap(ruleset)
        self.app.store.set_warnings(WARNINGS, [])
        log.info("rules reloaded: %d rules (%d active) from %d files", len(ruleset), len(ruleset.active),
                 len(ruleset.files))
        return True


def rule_engine_of(app: "App") -> RuleEngine | None:
    return next((d for d in app.detectors if isinstance(d, RuleEngine)), None)


def reload_jobs(app: "App", pipeline: "Pipeline") -> list["JobSpec"]:
    """The daemon's rule reload job (a JOB_PROVIDERS entry)."""
    from ...daemon import JobSpec

    if not app.config.settings.rules.reload:
        return []
    engine = rule_engine_of(app)
    if engine is None:
        return []
    watcher = RuleWatcher(app, engine)
    return [JobSpec("rules-reload", watcher.check, Schedule(interval=POLL_EVERY))]
