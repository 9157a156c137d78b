"""The ``Job`` a capability hands the worker: one idempotent function on an interval.

Every job is scheduled with its ``id``, ``max_instances=1`` and ``coalesce=True``, so a restart
or an overrun never doubles work (the worker in ``center/worker.py`` runs them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[], Any]
    seconds: int
    kwargs: dict[str, Any] = field(default_factory=dict)
