"""`monitor posts search|show`."""

from __future__ import annotations

import click

from ..store import PostQuery
from .common import CliError, common_options, echo_json, local_time, open_app, parse_since


@click.group("posts")
def posts_group() -> None:
    """Search and inspect stored posts."""


@posts_group.command("search")
@click.argument("query", required=False, default="")
@click.option("--since", help="Only posts newer than this: a duration (7d, 12h) or an ISO 8601 time.")
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--category", help="Only posts in this category (outage, account, deposit_withdrawal, ...).")
@click.option("--lang", help="Only posts in this language (ISO 639-1 code, e.g. zh).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post.")
@common_options
def search(query: str, since: str | None, sources: tuple[str, ...], category: str | None, lang: str | None,
           limit: int, as_json: bool) -> None:
    """Full-text search over stored posts, newest first (works for Chinese, Japanese and Korean too).

    Words are ANDed; "quoted phrases", OR, NOT and prefix* work.

    Example: monitor posts search "withdrawal stuck" --since 7d --category deposit_withdrawal
    """
    app = open_app()
    q = PostQuery(text=query or None, since=parse_since(since, app.clock.now()), sources=sources,
                  category=category, lang=lang, limit=limit)
    results = app.store.search_posts(q)
    if as_json:
        for post, e in results:
            click.echo(_json_line(post, e))
        return
    tz = app.config.settings.tz
    for post, e in results:
        tags = f"{e.sentiment.value} {e.sentiment_score:+.2f} {','.join(e.category_names) or '-'} {e.lang}" if e else \
            "not enriched yet"
        click.echo(f"[{post.id}] {local_time(post.created_at, tz)}  {post.key}  ({tags})")
        if post.title:
            click.echo(f"    {post.title}")
        click.echo(f"    {_one_line(post.text)}")
        if post.url:
            click.echo(f"    {post.url}")
    if not results:
        click.echo("no matching posts", err=True)


@posts_group.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@common_options
def show(key: str, as_json: bool) -> None:
    """Show one post (by id or source:external_id), its enrichment and its edit history."""
    app = open_app()
    post = app.store.find_post(key)
    if post is None:
        raise CliError(f"no post {key!r} (use the numeric id or source:external_id)")
    enrichment = app.store.get_enrichments([post.id]).get(post.id)
    revisions = app.store.revisions(post.id)
    if as_json:
        obj = _json_obj(post, enrichment)
        obj["revisions"] = revisions
        echo_json(obj)
        return
    tz = app.config.settings.tz
    click.echo(f"post {post.id}: {post.key} ({post.source_type})")
    click.echo(f"  created: {local_time(post.created_at, tz)}; author: {post.author or '-'}; "
               f"rating: {post.rating or '-'}; version: {post.app_version or '-'}")
    if post.url:
        click.echo(f"  url: {post.url}")
    if post.title:
        click.echo(f"  title: {post.title}")
    click.echo(f"  text: {post.text}")
    if enrichment:
        click.echo(f"  lang: {enrichment.lang}; sentiment: {enrichment.sentiment.value} "
                   f"({enrichment.sentiment_score:+.2f}); categories: "
                   f"{', '.join(f'{c.name} {c.score:.2f}' for c in enrichment.categories) or '-'}; "
                   f"security: {'yes' if enrichment.security else 'no'}")
    for rev in revisions:
        click.echo(f"  revision {rev['revision']} (replaced {rev['replaced_at']}): {_one_line(rev['text'])}")


def _one_line(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _json_obj(post, e) -> dict:
    from ..jsonl import post_to_object

    obj = {"post_id": post.id, **post_to_object(post)}
    if e:
        obj["enrichment"] = {"lang": e.lang, "sentiment": {"label": e.sentiment.value, "score": e.sentiment_score},
                             "categories": [{"name": c.name, "score": c.score} for c in e.categories],
                             "security": e.security, "sensitive": list(e.sensitive), "backend": e.backend}
    return obj


def _json_line(post, e) -> str:
    import json

    return json.dumps(_json_obj(post, e), ensure_ascii=False)


COMMANDS = [posts_group]
