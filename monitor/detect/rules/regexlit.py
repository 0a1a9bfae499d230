"""Literal text a regex cannot match without, so regex rules can be indexed like keywords.

For `\\b[a-z0-9-]*(?:okx|mexc)[a-z0-9-]*\\.xyz` every match contains "okx" or "mexc": the rule
only needs evaluating on posts where the keyword automaton found one of them. The analysis is
conservative: when in doubt it finds nothing, and the regex simply runs on every post.
"""

from __future__ import annotations

try:  # Python 3.11+
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]

MIN_LITERAL = 3  # shorter literals would match most posts and save nothing
_REPEATS = tuple(op for op in (getattr(C, "MAX_REPEAT", None), getattr(C, "MIN_REPEAT", None),
                               getattr(C, "POSSESSIVE_REPEAT", None)) if op is not None)


def _fold(ch: str) -> str | None:
    folded = ch.casefold()
    return folded if len(folded) == 1 and folded == ch.lower() else None


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    """Of several alternative requirements, the one whose shortest literal is longest."""
    return max(candidates, key=lambda s: min(map(len, s)), default=None)


def _sequence(items) -> list[frozenset[str]]:
    """Sets of literals, each of which is required (one of the set must occur) by the sequence."""
    found: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            found.append(frozenset(["".join(run)]))
            run.clear()

    for op, arg in items:
        if op is C.LITERAL:
            ch = _fold(chr(arg))
            if ch is None:
                flush()
            else:
                run.append(ch)
            continue
        flush()
        if op is C.SUBPATTERN:
            found.extend(_sequence(arg[-1]))
        elif op is C.BRANCH:
            options = [_best(_sequence(alt)) for alt in arg[1]]
            if options and all(o is not None for o in options):
                found.append(frozenset().union(*options))  # type: ignore[arg-type]
        elif op in _REPEATS:
            low, _high, item = arg
            if low >= 1:
                found.extend(_sequence(item))
        # anything else (classes, anchors, lookarounds, backreferences) requires no literal text
    flush()
    return found


def required_literals(pattern: str) -> frozenset[str] | None:
    """Literals one of which occurs in every match (case-folded), or None when there are none."""
    try:
        parsed = parser.parse(pattern)
    except Exception:  # the caller reports invalid patterns itself
        return None
    best = _best([s for s in _sequence(parsed) if min(map(len, s)) >= MIN_LITERAL])
    return best
