"""YAML detection rules: the format (model.py), loading and validation (loader.py), the engine
that runs them in event time (engine.py), inline tests (testing.py), backtests (backtest.py)
and hot reload (reload.py). See docs/rules.md.

    build_rule_engine(app) -> RuleEngine            the Detector the pipeline runs
    load_match_function(config) -> fn(posts) -> [[rule ids]]   match rules, for `monitor score`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from ...models import EnrichedPost
from .engine import RuleEngine
from .loader import BUILTIN, configured_paths, load_rules, load_ruleset
from .ruleset import RuleSet

if TYPE_CHECKING:
    from ...app import App
    from ...config import AppConfig


def build_rule_engine(app: "App") -> RuleEngine:
    """The rule engine over the config's rule paths (raises ConfigError naming file and line)."""
    return RuleEngine(load_ruleset(app.config))


def load_match_function(config: "AppConfig") -> Callable[[Sequence[EnrichedPost]], list[list[str]]]:
    """For `monitor score`: the ids of the active `match` rules that fire, per post."""
    loaded = load_ruleset(config, check_routes=False)
    ruleset = loaded.select([r.id for r in loaded.active if r.type == "match"])

    def match(posts: Sequence[EnrichedPost]) -> list[list[str]]:
        return [[rule.id for rule in fired] for _, _, fired in ruleset.evaluate(posts)]

    return match


__all__ = ["build_rule_engine", "load_match_function", "RuleEngine", "RuleSet", "load_rules", "load_ruleset",
           "configured_paths", "BUILTIN"]
