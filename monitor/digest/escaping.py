"""Escaping for the digest's Markdown and plain-text outputs, on top of monitor.text.escape.

The Markdown part may be posted to Slack and the plain-text part may end up in a Slack
message or a chat preview as well, so both also defuse what chat tools treat specially:
`<!channel>`, `<@U123>`, `<url|label>` and @here/@channel/@everyone. HTML goes through
Jinja2's autoescape instead (after `strip_controls`).
"""

from __future__ import annotations

from urllib.parse import quote as url_quote

from ..text.escape import ZWSP, defuse_broadcasts, escape_markdown, plain_url, strip_controls


class Raw(str):
    """Markdown or text the renderer built itself (a link, a table): not escaped again."""


def escape_md(text: str) -> str:
    """Markdown that renders `text` literally, in CommonMark and in Slack."""
    # &, < and > as entities (CommonMark shows them as the characters; Slack requires exactly this),
    # then backslash-escape Markdown syntax and break autolinks
    text = strip_controls(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return defuse_broadcasts(escape_markdown(text))


def escape_plain(text: str) -> str:
    """Plain text that chat tools will not turn into mentions or disguised links (idempotent)."""
    text = strip_controls(text).replace("<", "<" + ZWSP)
    return defuse_broadcasts(text)


def md_link(url: str | None) -> Raw:
    """A post's link as a Markdown autolink that shows the full URL (empty when not http(s))."""
    safe = plain_url(url)
    if not safe:
        return Raw("")
    return Raw("<" + url_quote(safe, safe=":/?#[]@!$&'()*+,;=%~-._") + ">")
