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


def strip_controls(text: str) -> str:
    """Remove control and bidi-override characters (which can disguise links) but keep newlines."""
    return _CONTROL.sub("", text)


def escape_html(text: str) -> str:
    return html.escape(strip_controls(text), quote=True)


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown syntax and neutralise autolinks."""
    text = _MD_SPECIAL.sub(r"\\\1", strip_controls(text))
    return _URL.sub(lambda m: m.group(1).replace("://", ":\u200b//"), text)


def escape_slack(text: str) -> str:
    """Slack mrkdwn: escape &, <, > (which also defuses <!channel>, <@U123> and <url|label>),
    break @here/@channel/@everyone and formatting characters."""
    text = strip_controls(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"@(here|channel|everyone)\b", "@\u200b\\1", text, flags=re.I)
    return re.sub(r"([*_~`])", "\u200b\\1\u200b", text)


def plain_url(url: str | None) -> str:
    """A link shown as inert text: only http(s) URLs survive, without embedded credentials."""
    if not url:
        return ""
    url = strip_controls(url).strip()
    if not re.match(r"(?i)^https?://", url):
        return ""
    return re.sub(r"(?i)^(https?://)[^/@]*@", r"\1", url)
