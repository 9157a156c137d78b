"""The worker's two rollup jobs (last two hours every minute, last day every quarter hour)
fall due together on the quarter hour: they must not rebuild at the same time."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from acd import rollup
from foundation.settings import load_settings


class Db:
    """Enough of a Database for the jobs' coverage read: no rollups yet."""

    def session(self) -> Any:
        class S:
            def __enter__(self) -> S:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def get(self, *a: object) -> None:
                return None
        return S()


def test_the_two_rollup_jobs_never_run_at_once(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    first_in, second_in, release = threading.Event(), threading.Event(), threading.Event()

    def fake_rollup(*args: object) -> int:
        if not first_in.is_set():
            first_in.set()
            # the other job falls due now: it must wait for this one
            second_in_early.append(second_in.wait(1.0))
            release.wait(10)
        else:
            second_in.set()
        return 0

    second_in_early: list[bool] = []
    monkeypatch.setattr(rollup, "rollup", fake_rollup)
    recent, day = (j.func for j in rollup.jobs(load_settings(data_dir=str(tmp_path)),
                                               Db()))  # type: ignore[arg-type]
    a = threading.Thread(target=recent)
    a.start()
    assert first_in.wait(10)
    b = threading.Thread(target=day)
    b.start()
    release.set()
    a.join(10)
    b.join(10)
    assert second_in_early == [False]  # the day job did not start while the other ran
    assert second_in.is_set()  # and ran once it was over
