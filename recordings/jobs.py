"""The worker's recording jobs: catalog, retention, policy push to Asterisk, monthly QA sample,
and on Twilio the download of its recordings (recordings/twilio_fetch.py) and the deletion of
Twilio's copies once catalogued (recordings/twilio_copies.py)."""

from __future__ import annotations

import logging

from foundation.db import Database, utcnow
from foundation.jobs import Job
from foundation.settings import Settings
from telephony.ami import AmiError

log = logging.getLogger(__name__)


def jobs(settings: Settings, db: Database) -> list[Job]:
    from recordings.catalog import catalog, paths_for
    from recordings.qa.sampling import draw_month
    from recordings.retention import run_retention

    queues = settings.queue_names()
    paths = paths_for(settings)

    def catalog_job() -> None:
        with db.session() as s:
            catalog(s, paths, queues, utcnow())

    def retention_job() -> None:
        run_retention(db, settings.data_dir, queues, utcnow())

    def policy_job() -> None:
        from recordings.asterisk_sync import push_to_asterisk

        try:
            push_to_asterisk(settings, db)
        except (AmiError, OSError) as exc:  # Asterisk down: next run tries again
            log.warning("recording policy not pushed to Asterisk: %s", exc)

    def sample_job() -> None:
        with db.session() as s:
            draw_month(s, utcnow(), settings.timezone)

    def twilio_fetch_job() -> None:
        from recordings.twilio_copies import queue_deletions
        from recordings.twilio_fetch import fetch_due

        fetch_due(settings, db, paths.incoming)
        if not settings.twilio_keep_recordings:  # Twilio's copies of catalogued recordings go
            with db.session() as s:
                queue_deletions(s, queues, utcnow())

    twilio = ([Job("recordings.twilio_fetch", twilio_fetch_job, 10)]
              if settings.telephony_backend == "twilio" else [])
    return [
        *twilio,
        Job("recordings.catalog", catalog_job, 15),
        Job("recordings.retention", retention_job, 3600),
        Job("recordings.policy_push", policy_job, 60),
        Job("recordings.qa_sample", sample_job, 6 * 3600),
    ]
