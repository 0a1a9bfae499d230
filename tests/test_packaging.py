"""The package list in pyproject.toml must name every package, or a wheel install loses code."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_package_is_listed():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    # every folder under monitor/ with code or data is a package to ship (data folders included,
    # which setuptools otherwise warns about and may drop)
    found = {"monitor.rulepacks"}
    for folder in [REPO / "monitor", *(REPO / "monitor").rglob("*")]:
        if folder.is_dir() and folder.name != "__pycache__" and any(f.is_file() for f in folder.iterdir()):
            found.add(".".join(folder.relative_to(REPO).parts))
    assert found == listed, f"add to pyproject.toml: {sorted(found - listed)}; remove: {sorted(listed - found)}"


def test_rule_packs_are_found():
    from monitor.paths import builtin_rules_dir

    # the packs ship from the top-level rules/ folder (as monitor.rulepacks in a wheel)
    root = builtin_rules_dir()
    assert root is None or any(root.glob("*.yaml"))
