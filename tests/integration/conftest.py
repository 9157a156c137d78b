"""Fixtures shared by the integration tests that need more than the suite's own services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.private_pg import PrivatePostgres


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this test's own, which it may stop and restart."""
    pg = PrivatePostgres(tmp_path / "pg")
    pg.init()
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()
