"""`civic311 up` prints one line per meaningful event: library chatter waits for DEBUG."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from foundation.settings import configure_logging, load_settings


@pytest.fixture(autouse=True)
def _restore_levels():
    saved = {name: logging.getLogger(name).level for name in ("", "apscheduler")}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_scheduler_job_runs_are_not_logged_at_info(tmp_path: Path) -> None:
    configure_logging(load_settings(data_dir=str(tmp_path), log_level="INFO"))
    runs = logging.getLogger("apscheduler.executors.default")
    assert not runs.isEnabledFor(logging.INFO)
    assert runs.isEnabledFor(logging.WARNING)
    assert logging.getLogger("center.supervisor").isEnabledFor(logging.INFO)


def test_debug_brings_the_chatter_back(tmp_path: Path) -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    configure_logging(load_settings(data_dir=str(tmp_path), log_level="DEBUG"))
    assert logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.DEBUG)
