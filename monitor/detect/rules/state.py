"""Per-rule state between detection passes, kept in the store so a crash replays identically.

- the judging watermark: the start of the next bucket a windowed rule will judge
  (pipeline_state "rules.<id>.next");
- realert cooldowns per group (blob "rules/<id>/realert");
- groups with an open condition, to send a Recovery when they clear (blob "rules/<id>/active");
- spike detector states per group (blobs "rules/<id>/spike/<group>").

Count series are named "rule:<id>" (an ungrouped rule), "rule:<id>|<k>=<v>|..." (per group of a
grouped rule), with "#rating=<n>" appended for rating histograms and "|term=<t>" for new_term
terms; the first bucket a rule counted is kept as "rules.<id>.since". Values are
escaped so that names parse back into groups. Everything read here is cached in memory until
`clear()`, which the engine calls whenever a pass fails or the rules change; every write goes
straight to the store, inside the detection pass's transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...store import SqliteStore

_ESCAPES = (("%", "%25"), ("|", "%7C"), ("=", "%3D"), ("#", "%23"))


def escape(value: str) -> str:
    for raw, esc in _ESCAPES:
        value = value.replace(raw, esc)
    return value


def unescape(value: str) -> str:
    for raw, esc in reversed(_ESCAPES):
        value = value.replace(esc, raw)
    return value


def group_suffix(group: dict[str, str]) -> str:
    return _suffix(tuple(sorted(group.items())))


@lru_cache(maxsize=65536)
def _suffix(items: tuple[tuple[str, str], ...]) -> str:
    # cached: every matching post of a grouped rule names its series (escaping is the cost)
    return "|".join(f"{k}={escape(v)}" for k, v in items)


def parse_group(suffix: str) -> dict[str, str]:
    if not suffix:
        return {}
    out = {}
    for part in suffix.split("|"):
        key, _, value = part.partition("=")
        out[key] = unescape(value)
    return out


def series_name(rule_id: str, group: dict[str, str] | None = None, rating: int | None = None) -> str:
    name = f"rule:{rule_id}|{group_suffix(group)}" if group else f"rule:{rule_id}"
    if rating is not None:
        name += f"#rating={rating}"
    return name


def term_series(rule_id: str, term: str) -> str:
    return f"rule:{rule_id}|term={escape(term)}"


def _map_key(rule_id: str, name: str) -> str:
    return f"rules/{rule_id}/{name}"


class RuleState:
    """Cached, write-through access to the rules' state in the store."""

    def __init__(self) -> None:
        self._maps: dict[str, dict[str, Any]] = {}
        self._blobs: dict[str, dict[str, bytes]] = {}
        self._dirty: set[str] = set()
        self.first_buckets: dict[str, int] = {}  # rule id -> its first counted bucket ("rules.<id>.since")

    def clear(self) -> None:
        self._maps.clear()
        self._blobs.clear()
        self._dirty.clear()
        self.first_buckets.clear()

    # --- the first bucket a rule counted ----------------------------------------------------

    def since(self, store: "SqliteStore", rule_id: str) -> int | None:
        if rule_id not in self.first_buckets:
            value = store.get_state(f"rules.{rule_id}.since")
            if not value:
                return None
            self.first_buckets[rule_id] = int(value)
        return self.first_buckets[rule_id]

    def counted(self, store: "SqliteStore", rule_id: str, bucket: int) -> None:
        """Record that the rule counted a post in `bucket` (keeps the earliest)."""
        known = self.since(store, rule_id)
        if known is None or bucket < known:
            store.set_state(f"rules.{rule_id}.since", str(bucket))
            self.first_buckets[rule_id] = bucket

    # --- watermark ----------------------------------------------------------------------

    @staticmethod
    def next_bucket(store: "SqliteStore", rule_id: str) -> int | None:
        value = store.get_state(f"rules.{rule_id}.next")
        return int(value) if value else None

    @staticmethod
    def set_next_bucket(store: "SqliteStore", rule_id: str, bucket: int) -> None:
        store.set_state(f"rules.{rule_id}.next", str(bucket))

    # --- small JSON maps: realert cooldowns, open groups ----------------------------------

    def get_map(self, store: "SqliteStore", rule_id: str, name: str) -> dict[str, Any]:
        key = _map_key(rule_id, name)
        if key not in self._maps:
            blob = store.get_blobs(key).get(key)
            self._maps[key] = json.loads(blob) if blob else {}
        return self._maps[key]

    def save_map(self, store: "SqliteStore", rule_id: str, name: str, now: datetime) -> None:
        key = _map_key(rule_id, name)
        store.put_blobs([self._map_blob(key)], now)
        self._dirty.discard(key)

    def touch_map(self, rule_id: str, name: str) -> None:
        """Mark a map changed; `flush` writes it (once per pass instead of once per change)."""
        self._dirty.add(_map_key(rule_id, name))

    def flush(self, store: "SqliteStore", now: datetime) -> None:
        if self._dirty:
            store.put_blobs([self._map_blob(key) for key in sorted(self._dirty)], now)
            self._dirty.clear()

    def _map_blob(self, key: str) -> tuple[str, bytes]:
        return key, json.dumps(self._maps.get(key, {}), sort_keys=True).encode()

    # --- blobs per group (spike states) -----------------------------------------------------

    def get_blobs(self, store: "SqliteStore", rule_id: str, name: str) -> dict[str, bytes]:
        """Group suffix -> blob."""
        prefix = f"rules/{rule_id}/{name}/"
        if prefix not in self._blobs:
            self._blobs[prefix] = {k[len(prefix):]: v for k, v in store.get_blobs(prefix).items()}
        return self._blobs[prefix]

    def put_blobs(self, store: "SqliteStore", rule_id: str, name: str, items: dict[str, bytes], now: datetime) -> None:
        prefix = f"rules/{rule_id}/{name}/"
        self.get_blobs(store, rule_id, name).update(items)
        store.put_blobs([(prefix + k, v) for k, v in items.items()], now)
