"""`monitor eval`: measure the enrichment on the public data sets (see docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import UNUSED_HELP, common_options


@click.command("eval")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with the public data sets (default: ../shared/data next to the repository).",
)
@click.option(
    "--backend",
    "backends",
    multiple=True,
    default=("embedded", "vader", "snownlp"),
    show_default=True,
    help="Sentiment backends to measure (repeat the option); vader and snownlp need the `eval` extra.",
)
@click.option("--model", default=None, help="Model for the transformers backend (hub id or local directory).")
@click.option("--limit", type=int, default=None, help="At most this many rows per data set (quick runs).")
@click.option("--posts", "throughput_posts", type=int, default=5000, show_default=True, help="Posts per throughput run.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of tables.")
@common_options(config_help=UNUSED_HELP, db_help=UNUSED_HELP)
def eval_cmd(
    data_dir: Path | None,
    backends: tuple[str, ...],
    model: str | None,
    limit: int | None,
    throughput_posts: int,
    as_json: bool,
) -> None:
    """Measure sentiment, categories, language detection and throughput on public data.

    Example: monitor eval --backend embedded --backend vader --limit 500
    """
    from ..enrich.datasets import default_data_dir
    from ..enrich.report import run_eval

    data_dir = data_dir or default_data_dir()
    if not (data_dir / "tweeteval-sentiment").is_dir():
        raise click.ClickException(f"public data sets not found in {data_dir} (use --data-dir)")
    report = run_eval(data_dir, backends, model=model, limit=limit, throughput_posts=throughput_posts)
    click.echo(report.to_json() if as_json else report.to_markdown())
