"""Slack Block Kit for incident notifications and digests (mrkdwn escaped for every value)."""

from __future__ import annotations

from ...text.escape import escape_slack, plain_url
from ..payload import AlertView, DigestView
from ..render import clip, facts, headline, single_line

HEADER_LIMIT, SECTION_LIMIT, FIELD_LIMIT, MAX_FIELDS, MARKDOWN_LIMIT = 150, 3000, 2000, 10, 12000
EMOJI = {"trigger": ":rotating_light:", "escalate": ":rotating_light:", "repeat": ":bell:",
         "acknowledge": ":eyes:", "resolve": ":white_check_mark:", "update": ":information_source:"}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}


def _clusters(alert: AlertView, limit: int = 5) -> str:
    lines = []
    for c in alert.summary.clusters[:limit]:
        link = plain_url(c.url)
        # a bare URL, escaped: Slack may link it, but the post cannot choose the label
        lines.append(f"• ({c.size}x) {escape_slack(single_line(c.text))}" + (f"\n   {escape_slack(link)}" if link else ""))
    return "\n".join(lines)


def alert_blocks(alert: AlertView, mention: str | None = None, brief: bool = False) -> list[dict]:
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "emoji": True,
                                                      "text": clip(f"{EMOJI.get(alert.event, '')} {headline(alert)}".strip(),
                                                                   HEADER_LIMIT)}}]
    if mention:
        blocks.append(_section(mention))  # from the config (trusted): e.g. <!subteam^S0123> or <!here>
    if alert.description and not brief:
        blocks.append(_section(escape_slack(single_line(alert.description))))
    wanted = ("Posts", "Volume", "Trend", "Resolved", "Note") if brief else None
    fields = [{"type": "mrkdwn", "text": clip(f"*{escape_slack(k)}*\n{escape_slack(v)}", FIELD_LIMIT)}
              for k, v in facts(alert) if wanted is None or k in wanted]
    if fields:
        blocks.append({"type": "section", "fields": fields[:MAX_FIELDS]})
    clusters = _clusters(alert, 3 if brief else 5)
    if clusters:
        blocks.append(_section("*Top complaints*\n" + clusters))
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": clip(escape_slack(f"Incident {alert.incident_id} · {alert.dedup_key}"), 1000)}]})
    return blocks


def alert_text(alert: AlertView, mention: str | None = None) -> str:
    """The notification text (shown in notifications and by clients that cannot show blocks)."""
    return ((mention + " ") if mention else "") + escape_slack(headline(alert, 1000))


def digest_blocks(digest: DigestView, use_markdown_block: bool) -> list[dict]:
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": clip(single_line(digest.subject),
                                                                                         HEADER_LIMIT)}}]
    if use_markdown_block and digest.markdown:
        # the markdown block takes standard Markdown, which the digest renderer already escaped
        blocks.append({"type": "markdown", "text": clip(digest.markdown, MARKDOWN_LIMIT)})
        return blocks
    blocks += [_section(chunk) for chunk in chunks(escape_slack(digest.text), SECTION_LIMIT)]
    return blocks[:50]


def chunks(text: str, limit: int) -> list[str]:
    """Split at line ends into pieces of at most `limit` characters (long lines are cut)."""
    out, current = [], ""
    for line in text.splitlines():
        while len(line) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return [c for c in out if c.strip()]
