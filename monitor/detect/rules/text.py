"""Text normalisation and the one keyword matcher shared by every rule.

Posts and keywords are folded the same way (NFKC, so full-width and half-width forms agree;
case folding; invisible characters removed; whitespace runs collapsed), then all rules'
keywords go into ONE Aho-Corasick automaton, so a post is scanned once however many rules
there are.

Word boundaries: a keyword must not continue a word of its own script. "hack" does not match
inside "hackathon", but "okx" matches in "okx에서" and "okx账号" (the next character belongs to
another script), which is how brand names appear in Korean and Chinese posts. Scripts written
without spaces (Chinese, Japanese, Thai...) have no word boundaries, so their keywords match as
substrings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

import ahocorasick

from ...enrich.text import fold

# On top of the enrichment's fold (NFKC, case, Turkish İ/ı): invisible characters (used to dodge
# filters) go; typographic quotes become ASCII ones, so that "can’t" typed on a phone matches
# the keyword "can't"
_FOLD = {**dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None),
         **dict.fromkeys(map(ord, "\u2018\u2019\u201b\u02bc\u2032\u00b4`"), "'"),
         **dict.fromkeys(map(ord, "\u201c\u201d\u201f\u2033"), '"')}
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACES.sub(" ", fold(text).translate(_FOLD)).strip()


# Languages whose script has no spaces between words: their keywords match as substrings.
UNSPACED_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})
# Agglutinative languages where particles and suffixes attach to the word (계정이, hesabım):
# their keywords match as word prefixes unless written otherwise.
PREFIX_LANGS = frozenset({"ko", "tr"})

_UNSPACED_RANGES = ((0x0E00, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF),
                    (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF66, 0xFF9F),
                    (0x20000, 0x3FFFF))


def script_of(ch: str) -> str | None:
    """A coarse script class of a word character; None for anything that separates words."""
    if not (ch.isalnum() or ch == "_"):
        return None
    o = ord(ch)
    if o < 0x0250 or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    if 0x0400 <= o <= 0x052F:
        return "cyrillic"
    if 0x0370 <= o <= 0x03FF:
        return "greek"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x0590 <= o <= 0x05FF:
        return "hebrew"
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F:
        return "arabic"
    for lo, hi in _UNSPACED_RANGES:
        if lo <= o <= hi:
            return "unspaced"
    return "other"


_SCRIPTS: dict[str, str] = {}  # character -> script class ("" for separators), filled as characters are seen


def _script_slow(ch: str) -> str:
    found = script_of(ch) or ""
    if len(_SCRIPTS) < 100_000:
        _SCRIPTS[ch] = found
    return found


def is_unspaced(text: str) -> bool:
    return any(script_of(ch) == "unspaced" for ch in text)


class Mode(str, Enum):
    WORD = "word"  # whole word: boundaries on both sides
    PREFIX = "prefix"  # start of a word: "hack*" matches hacked, hacker
    SUFFIX = "suffix"  # end of a word: "*coin"
    SUBSTRING = "substring"  # anywhere: Chinese/Japanese, or "*text*"


@dataclass(frozen=True)
class Keyword:
    text: str  # normalised, without the * markers
    mode: Mode
    original: str  # as written in the rule
    lang: str | None  # the language key it was listed under (None: the plain list form)


def parse_keyword(raw: str, lang: str | None) -> Keyword:
    """Apply the * markers and the language's default mode to one keyword as written."""
    body = raw.strip()
    lead, trail = body.startswith("*"), body.endswith("*") and len(body) > 1
    body = body.strip("*")
    text = normalize(body)
    if lang in UNSPACED_LANGS or is_unspaced(text) or (lead and trail):
        mode = Mode.SUBSTRING
    elif lead:
        mode = Mode.SUFFIX
    elif trail or lang in PREFIX_LANGS:
        mode = Mode.PREFIX
    else:
        mode = Mode.WORD
    return Keyword(text, mode, raw, lang)


class KeywordMatcher:
    """Every rule's keywords in one automaton; `scan` returns the ids of keywords present."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, Mode], int] = {}
        self.keywords: list[Keyword] = []
        self._automaton: ahocorasick.Automaton | None = None

    def add(self, keyword: Keyword) -> int:
        """Register a keyword (deduplicated) and return its id; call `build` after the last one."""
        key = (keyword.text, keyword.mode)
        if key not in self._ids:
            self._ids[key] = len(self.keywords)
            self.keywords.append(keyword)
        return self._ids[key]

    def build(self) -> None:
        by_text: dict[str, list[tuple]] = {}
        for kid, kw in enumerate(self.keywords):
            check_left = kw.mode in (Mode.WORD, Mode.PREFIX)
            check_right = kw.mode in (Mode.WORD, Mode.SUFFIX)
            left = script_of(kw.text[0]) if check_left else None
            right = script_of(kw.text[-1]) if check_right else None
            by_text.setdefault(kw.text, []).append((kid, len(kw.text), None if left == "unspaced" else left,
                                                    None if right == "unspaced" else right))
        if not by_text:
            self._automaton = None
            return
        automaton = ahocorasick.Automaton()
        for text, entries in by_text.items():
            automaton.add_word(text, tuple(entries))
        automaton.make_automaton()
        self._automaton = automaton

    def scan(self, text: str) -> set[int]:
        """Ids of the keywords found in `text` (already normalised) with their boundaries respected."""
        hits: set[int] = set()
        if self._automaton is None:
            return hits
        n = len(text)
        script = _SCRIPTS.get
        for end, entries in self._automaton.iter(text):
            for kid, length, left, right in entries:
                if kid in hits:
                    continue
                start = end - length + 1
                if left is not None and start > 0:
                    ch = text[start - 1]
                    found = script(ch)
                    if (found if found is not None else _script_slow(ch)) == left:
                        continue
                if right is not None and end + 1 < n:
                    ch = text[end + 1]
                    found = script(ch)
                    if (found if found is not None else _script_slow(ch)) == right:
                        continue
                hits.add(kid)
        return hits

    def near_misses(self, text: str, ids: frozenset[int]) -> list[str]:
        """Keywords of `ids` that occur in `text` only inside a longer word (for `rules explain`)."""
        return [self.keywords[k].original for k in sorted(ids) if self.keywords[k].text in text]
