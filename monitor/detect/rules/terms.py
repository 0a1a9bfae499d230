"""Terms a new_term rule watches: hashtags, cashtags, mentions, domains, words and word pairs.

Terms come from the normalised text (case and width folded), so "#OKXScam" and "#okxscam" are
one term. Words and word pairs are only taken from scripts written with spaces; Chinese and
Japanese terms come through hashtags, cashtags and domains.
"""

from __future__ import annotations

import re
from typing import Iterable

from .text import script_of

_HASHTAG = re.compile(r"(?<![\w&])#(\w{2,60})")
_CASHTAG = re.compile(r"(?<![\w$])\$([a-z][a-z0-9]{1,14})\b")
_MENTION = re.compile(r"(?<![\w@])@(\w{2,30})")
_URL_HOST = re.compile(r"\bhttps?://([^/\s?#:]+)")
_DOMAIN = re.compile(r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![\w-])")
_WORD = re.compile(r"\w+")

STOPWORDS = frozenset("""
the and for are but not you your with this that have has had was were been from they them their our out
all any can will just what when where who how why app its it's very more most some than then there here
about into over after before also only even much such still again get got one two would could should
""".split())


def _domain(host: str) -> str:
    host = host.strip(".").removeprefix("www.")
    return host


def extract(text: str, kinds: Iterable[str], min_length: int = 3) -> set[str]:
    """Terms in `text` (already normalised), each once; sigils kept (#tag, $tag, @name)."""
    kinds = set(kinds)
    out: set[str] = set()
    if "hashtags" in kinds:
        out.update("#" + t for t in _HASHTAG.findall(text) if len(t) >= min_length)
    if "cashtags" in kinds:
        out.update("$" + t for t in _CASHTAG.findall(text) if len(t) >= min(min_length, 3))
    if "mentions" in kinds:
        out.update("@" + t for t in _MENTION.findall(text) if len(t) >= min_length)
    if "domains" in kinds:
        hosts = {_domain(h) for h in _URL_HOST.findall(text)}
        hosts.update(_domain(h) for h in _DOMAIN.findall(_URL_HOST.sub(" ", text)))
        out.update(h for h in hosts if "." in h and len(h) >= min_length)
    if "words" in kinds or "bigrams" in kinds:
        words = [w for w in _WORD.findall(_URL_HOST.sub(" ", text))
                 if script_of(w[0]) not in (None, "unspaced") and not w.isdigit()]
        if "words" in kinds:
            out.update(w for w in words if len(w) >= min_length and w not in STOPWORDS)
        if "bigrams" in kinds:
            out.update(f"{a} {b}" for a, b in zip(words, words[1:])
                       if a not in STOPWORDS and b not in STOPWORDS and len(a) + len(b) >= min_length)
    return out
