"""Where a store review keeps the team's public reply: the one place that knows.

Google Play reviews carry the developer's reply in `post.meta["reply_text"]` and its time in
`post.meta["replied_at"]` (written by the google_play collector). The App Store's public
review feed does not include replies, so App Store reviews can never be shown as unanswered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Post

REPLY_TEXT_KEY = "reply_text"
REPLIED_AT_KEY = "replied_at"
# Source types whose collected reviews tell whether the team replied.
REPLY_AWARE_SOURCE_TYPES: tuple[str, ...] = ("google_play",)
# Store review source types whose feed has no replies (mentioned in the digest, never listed as unanswered).
REPLY_BLIND_SOURCE_TYPES: tuple[str, ...] = ("app_store",)


@dataclass(frozen=True)
class TeamReply:
    text: str
    replied_at: datetime | None


def team_reply(post: Post) -> TeamReply | None:
    """The team's reply to a review, or None when there is none (or the source cannot tell)."""
    text = post.meta.get(REPLY_TEXT_KEY)
    if not isinstance(text, str) or not text.strip():
        return None
    when = post.meta.get(REPLIED_AT_KEY)
    replied_at = None
    if isinstance(when, str) and when:
        try:
            replied_at = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            replied_at = None
    return TeamReply(text, replied_at)


def can_tell_reply(post: Post) -> bool:
    return post.source_type in REPLY_AWARE_SOURCE_TYPES
