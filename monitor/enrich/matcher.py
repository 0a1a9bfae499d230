"""Multilingual keyword matching with one Aho-Corasick automaton (pyahocorasick).

Keywords and texts are folded the same way (NFKC + casefold). Keywords in spaced scripts must
match whole words (the characters around the hit are not letters or digits); a trailing `*`
makes a keyword a prefix ("hack*" matches "hacked", "hackers"). Keywords containing Chinese,
Japanese, Korean or Thai characters match as substrings, since those scripts do not put spaces
between words (Korean attaches particles: "사기꾼", "사기를").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Iterable, Iterator, TypeVar

import ahocorasick

from .text import fold, is_cjk

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Hit(Generic[P]):
    start: int
    end: int  # exclusive
    keyword: str
    payload: P


class KeywordMatcher(Generic[P]):
    """Finds keywords in folded text. Build once, share freely (read-only after `build`)."""

    def __init__(self, entries: Iterable[tuple[str, P]] = ()) -> None:
        # folded keyword -> (whole-word?, prefix?, payloads)
        self._entries: dict[str, tuple[bool, bool, list[P]]] = {}
        self._automaton: ahocorasick.Automaton | None = None
        for keyword, payload in entries:
            self.add(keyword, payload)

    def add(self, keyword: str, payload: P) -> None:
        keyword = keyword.strip()
        prefix = keyword.endswith("*")
        if prefix:
            keyword = keyword[:-1].rstrip()
        key = fold(keyword)
        if not key:
            return
        whole_word = not any(is_cjk(c) for c in key)
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = (whole_word, prefix, [payload])
        else:
            entry[2].append(payload)
        self._automaton = None

    def __len__(self) -> int:
        return len(self._entries)

    def build(self) -> None:
        automaton = ahocorasick.Automaton()
        for key, (whole_word, prefix, payloads) in self._entries.items():
            automaton.add_word(key, (key, whole_word, prefix, tuple(payloads)))
        if len(automaton):
            automaton.make_automaton()
        self._automaton = automaton

    def iter_hits(self, folded: str) -> Iterator[Hit[P]]:
        """Hits in `folded` (already passed through `fold`), in order of their end position."""
        if self._automaton is None:
            self.build()
        automaton = self._automaton
        if automaton is None or not len(automaton) or not folded:
            return
        n = len(folded)
        for end_index, (key, whole_word, prefix, payloads) in automaton.iter(folded):
            start = end_index - len(key) + 1
            end = end_index + 1
            if whole_word:
                if start > 0 and folded[start - 1].isalnum():
                    continue
                if not prefix and end < n and folded[end].isalnum():
                    continue
            for payload in payloads:
                yield Hit(start, end, key, payload)

    def hits(self, text: str) -> list[Hit[P]]:
        return list(self.iter_hits(fold(text)))
