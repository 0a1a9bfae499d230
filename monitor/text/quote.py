"""Post text quoted in alerts and digests: one line, sensitive data masked, cut to length."""

from __future__ import annotations

from ..enrich.sensitive import mask_sensitive
from .escape import strip_controls


def clip(text: str, limit: int | None) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def quote(text: str, limit: int) -> str:
    """One line of post text, sensitive data masked, at most `limit` characters."""
    # controls go before masking: a zero-width space inside an address would hide it from the mask
    return clip(" ".join(mask_sensitive(strip_controls(text)).split()), limit)
