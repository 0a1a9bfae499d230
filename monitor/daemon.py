"""`monitor run`: the scheduled daemon (APScheduler 3.x).

Jobs: one per source (its interval or cron, with jitter), a processing pass (enrich + detect),
delivery, housekeeping and VACUUM, plus jobs that other parts contribute (rule reload,
digests). Each job has max_instances=1 and coalesces missed runs, so a slow source never piles
up; a failing job is logged with its traceback and never stops the others. SIGTERM and SIGINT
let running jobs finish their current batch, then the process exits cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .app import App
from .config.types import Schedule, cron_trigger, parse_schedule
from .digest.jobs import digest_jobs
from .pipeline import Pipeline
from .sources.base import SOURCES

log = logging.getLogger(__name__)


@dataclass
class JobSpec:
    id: str
    func: Callable[[], Any]
    schedule: Schedule
    jitter: int | None = None  # seconds
    run_now: bool = False


# Other parts of the product add jobs here: each provider returns JobSpecs for an app.
JOB_PROVIDERS: list[Callable[[App, Pipeline], list[JobSpec]]] = [digest_jobs]


def _rule_reload_jobs(app: App, pipeline: Pipeline) -> list[JobSpec]:
    from .detect.rules.reload import reload_jobs

    return reload_jobs(app, pipeline)


JOB_PROVIDERS.append(_rule_reload_jobs)


def _jitter_for(schedule: Schedule) -> int | None:
    if schedule.interval is None:
        return 30
    return max(1, min(300, int(schedule.interval.total_seconds() * 0.1)))


def core_jobs(app: App, pipeline: Pipeline) -> list[JobSpec]:
    settings = app.config.settings
    jobs: list[JobSpec] = []
    for entry in app.config.active_sources():
        schedule = entry.schedule or parse_schedule(SOURCES.get(entry.type).default_schedule)
        jobs.append(JobSpec(f"collect:{entry.name}", lambda e=entry: pipeline.collect(e), schedule,
                            jitter=_jitter_for(schedule), run_now=True))

    def process() -> None:
        pipeline.enrich()
        pipeline.detect()

    jobs.append(JobSpec("process", process, Schedule(interval=settings.detection.interval), run_now=True))
    jobs.append(JobSpec("deliver", pipeline.deliver, Schedule(interval=settings.delivery.interval)))
    if settings.storage.retention is not None:
        keep = settings.storage.retention
        jobs.append(JobSpec("housekeeping", lambda: app.store.apply_retention(app.clock.now(), keep),
                            settings.storage.housekeeping))
    jobs.append(JobSpec("vacuum", app.store.vacuum, settings.storage.vacuum))
    return jobs


@dataclass
class Daemon:
    app: App
    scheduler: BlockingScheduler = field(init=False)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.app)
        tz = self.app.config.settings.tz
        self.scheduler = BlockingScheduler(
            timezone=tz,
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        self._stopping = threading.Event()
        for provider in [core_jobs, *JOB_PROVIDERS]:
            for spec in provider(self.app, self.pipeline):
                self.add(spec)

    def add(self, spec: JobSpec) -> None:
        tz = self.app.config.settings.tz
        if spec.schedule.cron:
            trigger = cron_trigger(spec.schedule.cron, tz)
            trigger.jitter = spec.jitter
        else:
            trigger = IntervalTrigger(seconds=spec.schedule.interval.total_seconds(), jitter=spec.jitter, timezone=tz)
        kwargs = {}
        if spec.run_now:
            kwargs["next_run_time"] = self.app.clock.now()
        self.scheduler.add_job(self._guard(spec), trigger, id=spec.id, name=spec.id, replace_existing=True, **kwargs)

    def _guard(self, spec: JobSpec) -> Callable[[], Any]:
        def run() -> Any:
            if self._stopping.is_set():
                return None
            return spec.func()

        return run

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            log.error("job %s failed: %r\n%s", event.job_id, event.exception, event.traceback)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("job %s is still running; skipped this run", event.job_id)
        else:
            log.warning("job %s missed its run time", event.job_id)

    def stop(self, *_: Any) -> None:
        if self._stopping.is_set():
            return
        log.info("stopping: letting running jobs finish their current batch")
        self._stopping.set()
        self.app.stopping.set()
        # shutdown(wait=True) blocks until running jobs return; do it off the signal handler
        threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    def run(self) -> None:
        with self.app.store.writer_lock():
            previous = {}
            if threading.current_thread() is threading.main_thread():  # signals can only be caught there
                previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                jobs = ", ".join(job.id for job in self.scheduler.get_jobs())
                log.info("monitor daemon started on %s; jobs: %s", self.app.db_path, jobs)
                self.scheduler.start()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            log.info("monitor daemon stopped")


__all__ = ["Daemon", "JobSpec", "JOB_PROVIDERS", "timedelta"]
