"""Escaping post text for each medium, so that a post cannot inject formatting, mentions or links.

Text from the internet is hostile: a review can contain `<script>`, `[click](http://phish)`,
`<!channel>` or `@here`. Every renderer passes post text through the function for its medium.
"""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_URL = re.compile(r"(?i)\b((?:https?|ftp)://)")
_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.I)
_MENTION = re.compile(r"@(?=\w)")
ZWSP = "\u200b"  # zero-width space: breaks a token for the parser, invisible to the reader


def strip_controls(text: str) -> str:
    """Remove control and bidi-override characters (which can disguise links) but keep newlines."""
    return _CONTROL.sub("", text)


def escape_html(text: str) -> str:
    return html.escape(strip_controls(text), quote=True)


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown syntax and neutralise autolinks."""
    text = _MD_SPECIAL.sub(r"\\\1", strip_controls(text))
    return _URL.sub(lambda m: m.group(1).replace("://", ":\u200b//"), text)


def defuse_broadcasts(text: str) -> str:
    """Break @here, @channel and @everyone (chat apps notify a whole room) with a zero-width space."""
    return _BROADCAST.sub("@" + ZWSP + r"\1", text)


def defuse_mentions(text: str) -> str:
    """Break every @name mention (GitHub, Jira, chat apps notify that user) with a zero-width space."""
    return _MENTION.sub("@" + ZWSP, text)


def escape_slack(text: str) -> str:
    """Slack mrkdwn: escape &, <, > (which also defuses <!channel>, <@U123> and <url|label>),
    break @here/@channel/@everyone and formatting characters."""
    text = strip_controls(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([*_~`])", ZWSP + r"\1" + ZWSP, defuse_broadcasts(text))


def plain_url(url: str | None) -> str:
    """A link shown as inert text: only http(s) URLs survive, without embedded credentials."""
    if not url:
        return ""
    url = strip_controls(url).strip()
    if not re.match(r"(?i)^https?://", url):
        return ""
    return re.sub(r"(?i)^(https?://)[^/@]*@", r"\1", url)
