"""Near-duplicate clusters: the same complaint posted many times, merged with a count.

Candidates come from MinHash LSH over shingles (words for spaced scripts, character trigrams
for Chinese and Japanese), then a fuzzy string ratio confirms each pair, so short texts that
share vocabulary but say different things are not merged. Union-find joins confirmed pairs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"[@#$]\w+")
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Cluster:
    representative: int  # index into the input of the most typical member
    members: tuple[int, ...]  # indexes into the input, in input order

    @property
    def size(self) -> int:
        return len(self.members)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _MENTION.sub(" ", _URL.sub(" ", text))
    return " ".join(_WORD.findall(text))


def _shingles(norm: str) -> set[str]:
    if _CJK.search(norm):
        compact = norm.replace(" ", "")
        return {compact[i : i + 3] for i in range(max(1, len(compact) - 2))}
    words = norm.split()
    if len(words) < 3:
        return {norm}
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple:
    # building a MinHash draws its permutations; draw them once and share them
    template = MinHash(num_perm=num_perm, seed=1)
    return template.permutations, template.scheme


@lru_cache(maxsize=8)
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    # MinHashLSH picks (bands, rows) by numerical integration on every construction; once is enough
    probe = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return probe.b, probe.r


def cluster_texts(texts: Sequence[str], threshold: float = 0.4, min_ratio: float = 85.0,
                  num_perm: int = 64) -> list[Cluster]:
    """Group near-duplicate texts; every input index is in exactly one cluster, biggest first."""
    norms = [normalise(t) for t in texts]
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=_lsh_params(threshold, num_perm))
    permutations, scheme = _permutations(num_perm)
    for i, norm in enumerate(norms):
        m = MinHash(num_perm=num_perm, seed=1, permutations=permutations, scheme=scheme)
        m.update_batch([s.encode("utf-8") for s in _shingles(norm)])
        for j in lsh.query(m):
            if find(i) != find(j) and fuzz.ratio(norm, norms[j]) >= min_ratio:
                parent[find(i)] = find(j)
        lsh.insert(i, m)
    groups: dict[int, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(find(i), []).append(i)
    clusters = []
    for members in groups.values():
        # representative: the member closest to all others (the medoid), ties to the earliest
        if len(members) <= 2:
            rep = members[0]
        else:
            sample = members[:50]
            rep = max(sample, key=lambda i: sum(fuzz.ratio(norms[i], norms[j]) for j in sample))
        clusters.append(Cluster(rep, tuple(members)))
    clusters.sort(key=lambda c: (-c.size, c.members[0]))
    return clusters
