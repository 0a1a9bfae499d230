"""`monitor digest`: build a digest now, print it or write it to a file, or send it."""

from __future__ import annotations

from pathlib import Path

import click

from .common import CliError, EXIT_BAD_INPUT, common_options, open_app

FORMATS = ["html", "md", "text", "json"]


@click.command("digest")
@click.option("--name", help="A digest from the config's `digests:`; its settings are the defaults here.")
@click.option("--period", help="How far back the digest looks, e.g. 24h or 7d (default: the digest's, or 24h).")
@click.option("--until", "until", help="End of the period, an ISO 8601 time with a timezone (default: now).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format (default: the digest's, or html).")
@click.option("--lang", type=click.Choice(["en", "zh"]), help="Language (default: the digest's, or en).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout (Markdown also writes its charts beside it).")
@click.option("--send", is_flag=True, help="Send it to the digest's channels through the outbox, then deliver.")
@click.option("--channel", "channels", multiple=True, help="Send to this channel instead (repeatable).")
@click.option("--force", is_flag=True, help="With --send: send even if this period was already sent.")
@click.option("--no-charts", is_flag=True, help="Skip the charts (tables only).")
@common_options
def digest_cmd(name: str | None, period: str | None, until: str | None, fmt: str | None, lang: str | None,
               out: Path | None, send: bool, channels: tuple[str, ...], force: bool, no_charts: bool) -> None:
    """Build the digest for community managers: volume, sentiment, ratings, incidents, complaints.

    Examples:

      monitor digest --period 24h --format html --out digest.html

      monitor digest --name daily --lang zh --send
    """
    from pydantic import ValidationError

    from ..config.types import parse_duration
    from ..digest.service import produce, send_digest, write_output
    from ..digest.settings import DigestSettings
    from ..jsonl import BadLine, parse_time

    app = open_app()
    configured = {d.name: d for d in app.config.settings.digests}
    if name is not None and name not in configured:
        known = ", ".join(configured) or "none configured"
        raise CliError(f"no digest named {name!r} in the config (known: {known})", EXIT_BAD_INPUT)
    settings = configured[name] if name else DigestSettings(name="adhoc")
    update: dict = {}
    try:
        if period:
            update["period"] = parse_duration(period)
        if fmt:
            update["format"] = fmt
        if lang:
            update["lang"] = lang
        settings = DigestSettings.model_validate({**settings.model_dump(), **update})
    except ValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"].removeprefix("Value error, "), param_hint="--period") from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    try:
        end = parse_time(until) if until else app.clock.now().replace(microsecond=0)
    except BadLine as exc:
        raise click.BadParameter(str(exc).replace("created_at", "the time"), param_hint="--until") from None
    if send and not (channels or settings.channels):
        raise CliError("--send needs channels: use --name for a configured digest, or --channel NAME", EXIT_BAD_INPUT)

    if send and not force and out is None and app.store.digest_sent(settings.name, end):
        raise CliError(f"digest {settings.name} for the period ending {until or 'now'} was already sent "
                       "(use --force to send it again)")
    # charts are drawn only where they are shown: HTML and Markdown, and what is sent
    wants_charts = not no_charts and (send or settings.format in ("html", "md"))
    output = produce(app.store, settings, end, app.config.settings.timezone, charts=wants_charts)
    if out is not None:
        for path in write_output(output, settings.format, out):
            click.echo(f"wrote {path}", err=True)
    elif not send:
        # HTML on stdout stays self-contained (data: images); Markdown gets no images there
        click.echo(output.render(settings.format, image_mode="data" if settings.format == "html" else "none"), nl=False)
    if send:
        result = send_digest(app, settings, end, list(channels) if channels else None, force=force, output=output)
        if result.skipped:
            hint = " (use --force to send it again)" if result.skipped == "already sent" else ""
            raise CliError(f"digest {settings.name} not sent: {result.skipped}{hint}")
        report = app.dispatcher.run()
        click.echo(f"digest {settings.name}: enqueued for {', '.join(result.channels)}; delivered {report.sent}, "
                   f"failed {report.failed + report.dead}", err=True)


COMMANDS = [digest_cmd]
