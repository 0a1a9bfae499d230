"""Text as the full-text index sees it.

SQLite's unicode61 tokenizer splits on spaces, which Chinese and Japanese do not use and
Korean uses only between phrases. We index those scripts one character per token and turn a
query for "闪退" into the phrase "闪 退", so a search finds a word inside a longer run of
characters in every language, the same way for indexing and for queries.
"""

from __future__ import annotations

import re

# Han, Hiragana, Katakana, Hangul syllables and jamo, CJK punctuation-free ranges
_CJK = re.compile(
    "([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
    "\U00020000-\U0002a6df])"
)
_TOKEN = re.compile(r'"[^"]*"|\S+')


def _spaced(match: re.Match) -> str:
    return " " + " ".join(match.group()) + " "


_CJK_RUN = re.compile(_CJK.pattern[1:-1] + "+")


def index_text(text: str) -> str:
    return _CJK_RUN.sub(_spaced, text) if _CJK.search(text) else text


def fts_query(query: str) -> str:
    """A user's query in FTS5 syntax: words are ANDed, "quoted phrases" kept, CJK runs become phrases.

    Operators (OR, NOT, NEAR, trailing *) pass through; other punctuation is quoted away so that
    hostile or accidental syntax cannot make the query fail.
    """
    parts: list[str] = []
    for token in _TOKEN.findall(query):
        if token in ("OR", "AND", "NOT"):
            # an operator needs a term on its left; a dangling one is dropped below
            if parts and parts[-1] not in ("OR", "AND", "NOT"):
                parts.append(token)
            continue
        prefix = token.endswith("*") and len(token) > 1
        word = token.strip('"').rstrip("*") if not token.startswith('"') else token[1:-1]
        pieces = index_text(word).split()
        if not pieces:
            continue
        phrase = '"' + " ".join(p.replace('"', '""') for p in pieces) + '"'
        parts.append(phrase + ("*" if prefix else ""))
    while parts and parts[-1] in ("OR", "AND", "NOT"):
        parts.pop()
    return " ".join(parts)
