"""Sparse hashed features for the embedded sentiment model (the same code at training and run time).

A post becomes a list of bucket indices into a 2**bits weight table:
 * word unigrams and bigrams, lower-cased, elongations shortened ("soooo" -> "soo"), and marked
   after a negation word until the next punctuation ("not good" -> "good_NEG");
 * character 2..5-grams inside each word (with boundary marks), which copes with spelling
   variants, inflection and languages the model has seen little of;
 * for scripts written without spaces (Chinese, Japanese, Thai...) character 1..3-grams of each run;
 * emoticons, emoji and a few shape cues (!!, ??, ALL CAPS, elongation).

Hashing uses crc32 with a different start value per feature family, so nothing depends on
Python's per-process string hash and no vocabulary has to be shipped.
"""

from __future__ import annotations

import re
import zlib

from .text import is_cjk, normalise_tweet

_TOKEN = re.compile(
    r"""
    (?P<emo>[<>]?[:;=8xX][\-o*'^]?[)\](\[dDpP/\\|}{@3oO*]+(?![\w])|<3+|</3|\^_?\^|[)(][\-o*']?[:;=]|T_T|;_;)
    |(?P<word>[#@]?[^\W\d_](?:[\w'’]*\w)?)
    |(?P<num>\d+(?:[.,]\d+)*)
    |(?P<punct>[!?]+|[.,;:]+)
    |(?P<sym>[^\w\s])
    """,
    re.VERBOSE,
)
_ELONGATED = re.compile(r"(\w)\1{2,}")
_NEGATIONS = frozenset(
    """not no never none nobody nothing nowhere neither nor cannot cant can't dont don't doesnt doesn't
    didnt didn't isnt isn't wasnt wasn't arent aren't werent weren't wont won't wouldnt wouldn't shouldnt
    shouldn't couldnt couldn't havent haven't hasnt hasn't hadnt hadn't aint ain't without
    nicht kein keine keinen nie nichts ne pas jamais rien non nunca nada nadie tampoco ni não nao nem nunca
    mai niente nessuno не нет ни никогда değil yok hiç không chẳng chưa""".split()
)

# seeds per feature family (crc32 start values)
S_WORD, S_BIGRAM, S_CHAR, S_CJK, S_CUE, S_WORDCHAR = 1, 2, 3, 4, 5, 6


def _h(s: str, seed: int) -> int:
    return zlib.crc32(s.encode("utf-8", "replace"), seed)


class Featurizer:
    """Turns texts into hashed bucket indices. Stateless apart from a bounded cache of words."""

    def __init__(
        self,
        bits: int = 20,
        char_min: int = 2,
        char_max: int = 5,
        cjk_max: int = 3,
    ) -> None:
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.char_min = char_min
        self.char_max = char_max
        self.cjk_max = cjk_max
        self._word_cache: dict[str, tuple[int, ...]] = {}

    @property
    def dim(self) -> int:
        return 1 << self.bits

    def _word_features(self, word: str) -> tuple[int, ...]:
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        mask = self.mask
        out = [_h(word, S_WORD) & mask]
        if not word.isascii() and (is_cjk(word[0]) or is_cjk(word[-1])):
            run = word
            n_max = self.cjk_max
            for n in range(1, n_max + 1):
                for i in range(len(run) - n + 1):
                    out.append(_h(run[i : i + n], S_CJK) & mask)
        else:
            padded = f"<{word}>"
            lo, hi = self.char_min, self.char_max
            for n in range(lo, hi + 1):
                for i in range(len(padded) - n + 1):
                    out.append(_h(padded[i : i + n], S_CHAR) & mask)
        feats = tuple(out)
        if len(self._word_cache) > 200_000:
            self._word_cache.clear()
        self._word_cache[word] = feats
        return feats

    def tokens(self, text: str) -> list[str]:
        """Normalised tokens (what the word features see)."""
        return [t for t, _kind in self._tokens(normalise_tweet(text))]

    def _tokens(self, text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or "sym"
            tok = m.group()
            if kind == "word":
                if tok == "#":
                    continue
                # split mixed runs like "很好good" into CJK and non-CJK parts
                if not tok.isascii() and any(is_cjk(c) for c in tok):
                    for part in _split_cjk(tok):
                        out.append((part, "word"))
                    continue
            out.append((tok, kind))
        return out

    def features(self, text: str) -> list[int]:
        """Bucket indices for one raw text; duplicates are meaningful (counts)."""
        return self.features_of_normalised(normalise_tweet(text))

    def features_of_normalised(self, norm: str) -> list[int]:
        """Bucket indices for a text already passed through `normalise_tweet`."""
        mask = self.mask
        feats: list[int] = []
        prev = "<s>"
        negated = False
        caps = 0
        elong = 0
        for tok, kind in self._tokens(norm):
            if kind == "word":
                if tok.isupper() and len(tok) > 2:
                    caps += 1
                low = tok.lower()
                if _ELONGATED.search(low):
                    elong += 1
                    low = _ELONGATED.sub(r"\1\1", low)
                if low[0] in "#@" and len(low) > 1:
                    feats.append(_h(low, S_WORD) & mask)
                    low = low[1:]
                feats.extend(self._word_features(low))
                key = low + "_NEG" if negated else low
                if negated:
                    feats.append(_h(key, S_WORD) & mask)
                feats.append(_h(prev + " " + key, S_BIGRAM) & mask)
                prev = key
                if low in _NEGATIONS or low.endswith("n't") or low.endswith("n’t"):
                    negated = True
            elif kind == "punct":
                negated = False
                p = tok[0] if len(tok) == 1 else tok[:2]
                feats.append(_h(p, S_CUE) & mask)
                prev = p
            elif kind == "emo":
                feats.append(_h(tok.lower(), S_CUE) & mask)
                prev = "<emo>"
            elif kind == "sym":
                if ord(tok[0]) >= 0x2000:  # emoji and pictographs; ASCII symbols carry little
                    feats.append(_h(tok, S_CUE) & mask)
                    prev = tok
            # numbers: ignored, they carry no sentiment and only add noise
        feats.append(_h(prev + " </s>", S_BIGRAM) & mask)
        if caps:
            feats.append(_h("caps%d" % min(caps, 3), S_CUE) & mask)
        if elong:
            feats.append(_h("elong", S_CUE) & mask)
        feats.append(_h("bias", S_CUE) & mask)
        return feats


def _split_cjk(tok: str) -> list[str]:
    parts: list[str] = []
    cur = tok[0]
    cur_cjk = is_cjk(tok[0])
    for ch in tok[1:]:
        c = is_cjk(ch)
        if c == cur_cjk:
            cur += ch
        else:
            parts.append(cur)
            cur, cur_cjk = ch, c
    parts.append(cur)
    return [p for p in parts if p.strip("'’")]
