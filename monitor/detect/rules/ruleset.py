"""A compiled, immutable set of rules: what the engine runs and hot reload swaps as a whole."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ...errors import ConfigError
from ...models import EnrichedPost
from .compiler import CompileContext, CompiledRule, RuleSource, compile_rule
from .conditions import KeywordNode, PostContext
from .text import KeywordMatcher


class RuleSet:
    def __init__(self, sources: Sequence[RuleSource], bucket: timedelta, files: Sequence[Path] = (),
                 digest: str = "", warnings: Sequence[str] = ()) -> None:
        ctx = CompileContext(KeywordMatcher())
        self.rules: list[CompiledRule] = [compile_rule(src, ctx, bucket) for src in sources]
        ctx.matcher.build()
        if ctx.problems:
            raise ConfigError(ctx.problems)
        self.sources = list(sources)
        self.bucket = bucket
        self.matcher = ctx.matcher
        self.files = list(files)
        self.digest = digest
        self.warnings = list(warnings)
        self.by_id = {r.id: r for r in self.rules}
        self.active = [r for r in self.rules if r.enabled]
        # Rules whose condition needs a keyword are only evaluated on posts containing one of them,
        # so adding keyword rules costs little per post.
        index: dict[int, list[int]] = defaultdict(list)
        self._always: list[int] = []
        for i, rule in enumerate(self.active):
            if rule.anchors is None:
                self._always.append(i)
            else:
                for kid in rule.anchors:
                    index[kid].append(i)
        self._index = dict(index)
        # a rule whose whole condition is one keyword list holds whenever one of its anchors was found
        self._tests = [rule.node.test for rule in self.active]
        self._sure = [isinstance(rule.node, KeywordNode) for rule in self.active]

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> CompiledRule | None:
        return self.by_id.get(rule_id)

    def context(self, item: EnrichedPost) -> PostContext:
        return PostContext(item, self.matcher)

    def fired(self, pc: PostContext) -> list[CompiledRule]:
        """Active rules whose `match` holds for the post."""
        if not pc.hits:
            candidates: Iterable[int] = self._always
        else:
            found = set(self._always)
            for kid in pc.hits:
                found.update(self._index.get(kid, ()))
            candidates = sorted(found)
        active, tests, sure = self.active, self._tests, self._sure
        return [active[i] for i in candidates if sure[i] or tests[i](pc)]

    def evaluate(self, items: Iterable[EnrichedPost]) -> Iterator[tuple[EnrichedPost, PostContext, list[CompiledRule]]]:
        for item in items:
            pc = PostContext(item, self.matcher)
            yield item, pc, self.fired(pc)

    def select(self, rule_ids: Iterable[str] | None = None, force_enabled: bool = False,
               bucket: timedelta | None = None) -> "RuleSet":
        """A new set with only some rules (all when None), optionally all enabled, or for another bucket."""
        wanted = None if rule_ids is None else set(rule_ids)
        sources = [s for s in self.sources if wanted is None or s.spec.id in wanted]
        if force_enabled:
            sources = [replace(s, spec=s.spec.model_copy(update={"enabled": True})) for s in sources]
        return RuleSet(sources, bucket or self.bucket, self.files, self.digest, self.warnings)
