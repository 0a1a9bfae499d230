"""Incident notifications as plain text, Markdown and HTML.

Every value that can come from the internet (cluster texts, group values, URLs) and every
value from rules goes through the medium's escape function, so a post cannot inject
formatting, mentions or links. Links to posts are shown as plain URLs.
"""

from __future__ import annotations

from typing import Callable

from ..text.escape import defuse_mentions, escape_html, escape_markdown, plain_url, strip_controls
from ..text.quote import clip  # noqa: F401  (channels import it from here)
from .payload import AlertView

Fact = tuple[str, str]


def single_line(text: str) -> str:
    return " ".join(strip_controls(text).split())


def headline(a: AlertView, limit: int | None = None) -> str:
    group = f" ({a.group_text})" if a.group else ""
    return clip(single_line(f"[{a.status_word}] {a.severity.value.upper()}: {a.title}{group}"), limit)


def _counts(counts: dict | None, limit: int = 6) -> str:
    items = sorted((counts or {}).items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{k} {v}" for k, v in items)


def facts(a: AlertView) -> list[Fact]:
    s = a.summary
    out: list[Fact] = [("Severity", a.severity.value), ("State", a.state),
                       ("Posts", f"{a.post_count} in {a.finding_count} finding(s)")]
    if s.observed is not None:
        volume = f"{s.observed:g} observed"
        if s.expected is not None:
            volume += f" vs {s.expected:g} expected"
            if s.ratio is not None:
                volume += f" ({s.ratio:.1f}x)"
        out.append(("Volume", volume))
    out.append(("Trend", s.trend))
    out += [("First seen", a.first_seen), ("Last seen", a.last_seen)]
    for label, counts in (("Languages", s.languages), ("Sources", s.sources), ("Categories", s.categories)):
        if counts:
            out.append((label, _counts(dict(counts))))
    out.append(("Rule", a.rule_id))
    if a.group:
        out.append(("Group", a.group_text))
    if a.tags:
        out.append(("Tags", ", ".join(a.tags)))
    if a.owner:
        out.append(("Owner", a.owner))
    if s.resolved_because and a.event == "resolve":
        out.append(("Resolved", s.resolved_because))
    if s.note:
        out.append(("Note", s.note))
    return [(k, single_line(v)) for k, v in out]


def _clusters_lines(a: AlertView, esc: Callable[[str], str], url: Callable[[str], str], bullet: str) -> list[str]:
    lines = []
    for c in a.summary.clusters:
        line = f"{bullet}({c.size}x) {esc(c.text)}"
        link = plain_url(c.url)
        if link:
            line += f" {url(link)}"
        lines.append(line)
    return lines


def text_body(a: AlertView, limit: int | None = None) -> str:
    parts = [headline(a)]
    if a.description:
        parts.append(single_line(a.description))
    parts.append("\n".join(f"{k}: {v}" for k, v in facts(a)))
    clusters = _clusters_lines(a, single_line, lambda u: u, "- ")
    if clusters:
        parts.append("Top complaints:\n" + "\n".join(clusters))
    parts.append(f"Incident {a.incident_id} · {a.dedup_key}")
    return clip("\n\n".join(parts), limit)


def _md_url(url: str) -> str:
    # inside a code span a URL is shown, never turned into a link or formatting
    return "`" + url.replace("`", "%60") + "`"


def markdown_body(a: AlertView, limit: int | None = None) -> str:
    def esc(text: str) -> str:
        # `\&` too: Markdown decodes entities, so `&commat;x` or `&num;12` would spell a mention or a reference
        return defuse_mentions(escape_markdown(single_line(text))).replace("&", "\\&")

    parts = [f"**{esc(headline(a))}**"]
    if a.description:
        parts.append(esc(a.description))
    parts.append("\n".join(f"- **{esc(k)}:** {esc(v)}" for k, v in facts(a)))
    clusters = _clusters_lines(a, esc, _md_url, "- ")
    if clusters:
        parts.append("**Top complaints**\n\n" + "\n".join(clusters))
    parts.append(f"_Incident {a.incident_id} · {esc(a.dedup_key)}_")
    return clip("\n\n".join(parts), limit)


def html_body(a: AlertView) -> str:
    rows = "".join(f'<tr><td style="padding:2px 12px 2px 0;color:#555">{escape_html(k)}</td>'
                   f"<td>{escape_html(v)}</td></tr>" for k, v in facts(a))
    clusters = "".join(f"<li>({c.size}x) {escape_html(single_line(c.text))}"
                       + (f'<br><span style="color:#555">{escape_html(plain_url(c.url))}</span>' if plain_url(c.url) else "")
                       + "</li>" for c in a.summary.clusters)
    description = f"<p>{escape_html(single_line(a.description))}</p>" if a.description else ""
    return (f'<div style="font-family:Arial,sans-serif;font-size:14px">'
            f"<h2 style=\"font-size:16px\">{escape_html(headline(a))}</h2>{description}"
            f"<table>{rows}</table>"
            + (f"<h3 style=\"font-size:14px\">Top complaints</h3><ul>{clusters}</ul>" if clusters else "")
            + f'<p style="color:#888">Incident {a.incident_id} · {escape_html(a.dedup_key)}</p></div>')
