"""Plugin registries: a new Source, Channel or rule type is one class plus one decorator.

Built-in plugins register themselves when their module is imported; third-party packages
add theirs through entry points (`monitor.sources`, `monitor.channels`, `monitor.rule_types`,
`monitor.sentiment_backends`), loaded lazily on the first lookup of an unknown name.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, base: type, builtins: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.base = base
        self._classes: dict[str, type[T]] = {}
        # name -> "module:Class", imported on first use so that optional dependencies
        # (tweepy, transformers...) are only needed by those who configure them
        self._lazy: dict[str, str] = dict(builtins or {})
        self._entry_points_loaded = False

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def decorate(cls: type[T]) -> type[T]:
            if not issubclass(cls, self.base):
                raise TypeError(f"{cls.__name__} is not a {self.base.__name__}")
            self._classes[name] = cls
            return cls

        return decorate

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(set(self._classes) | set(self._lazy))

    def get(self, name: str) -> type[T]:
        if name in self._classes:
            return self._classes[name]
        if name not in self._lazy:
            self._load_entry_points()
        if name in self._lazy:
            target = self._lazy[name]
            module, _, attr = target.partition(":")
            cls = getattr(importlib.import_module(module), attr)
            if not issubclass(cls, self.base):
                raise TypeError(f"{target} is not a {self.base.__name__}")
            self._classes[name] = cls
            del self._lazy[name]
            return cls
        known = ", ".join(self.names()) or "none"
        raise LookupError(f"unknown {self.kind} type {name!r} (known: {known})")

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=f"monitor.{self.kind}s"):
            if ep.name not in self._classes:
                self._lazy.setdefault(ep.name, ep.value)
