"""The package list in pyproject.toml must name every package, or a wheel install loses code."""

import tomllib
from pathlib import Path

from setuptools import find_packages

REPO = Path(__file__).resolve().parent.parent


def test_every_package_is_listed():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {p for p in find_packages(str(REPO), include=["monitor*"])} | {"monitor.rulepacks"}
    assert found == listed, f"add to pyproject.toml: {sorted(found - listed)}; remove: {sorted(listed - found)}"


def test_rule_packs_are_found():
    from monitor.paths import builtin_rules_dir

    # the packs ship from the top-level rules/ folder (as monitor.rulepacks in a wheel)
    root = builtin_rules_dir()
    assert root is None or any(root.glob("*.yaml"))
