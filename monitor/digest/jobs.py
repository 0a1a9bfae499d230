"""The daemon's digest jobs: one cron job per configured digest (in the config's timezone).

Each job also runs once when the daemon starts, so that a digest missed while it was down is
sent late (within the digest's `catch_up`); the digest log makes every period go out once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import App
    from ..daemon import JobSpec
    from ..pipeline import Pipeline

log = logging.getLogger(__name__)


def digest_jobs(app: "App", pipeline: "Pipeline") -> list["JobSpec"]:
    from ..daemon import JobSpec
    from .service import run_scheduled

    jobs = []
    for settings in app.config.settings.digests:
        if not settings.enabled:
            continue
        if not settings.channels:
            log.info("digest %s has no channels: not scheduled (run it with `monitor digest --name %s`)",
                     settings.name, settings.name)
            continue
        jobs.append(JobSpec(f"digest:{settings.name}", lambda s=settings: run_scheduled(app, s), settings.schedule,
                            jitter=None, run_now=True))
    return jobs
