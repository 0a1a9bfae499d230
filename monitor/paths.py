"""Where shipped data lives, in a wheel install and in a source checkout alike."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def builtin_rules_dir() -> Path | None:
    """The shipped rule packs: monitor/rulepacks in an install, the repository's rules/ otherwise."""
    for candidate in (PACKAGE / "rulepacks", PACKAGE.parent / "rules"):
        if candidate.is_dir() and any(candidate.glob("*.y*ml")):
            return candidate
    return None
