"""Headless Chromium: a manager subscribes the council clerk to the monthly report and
removes a subscription on the scheduled-reports page; an agent is refused it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crm_bridge.scheduled.models import ReportSubscription
from crm_bridge.seed import seed_catalog
from foundation.db import Database
from foundation.users import create_user
from tests.browser.conftest import start_web, stop_web
from tests.conftest import TEST_PASSWORD, make_database

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    for database in make_database("postgres", tmp_path):
        with database.session() as s:
            seed_catalog(s, None)
            create_user(s, "m1", TEST_PASSWORD, "manager")
            create_user(s, "a1", TEST_PASSWORD, "agent", agent_ext="100")
        yield database


def _login(browser: Any, base: str, user: str) -> Any:
    page = browser.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_manager_subscribes_and_removes_agent_is_refused(db: Database, tmp_path: Path,
                                                         chromium: Any) -> None:
    proc, base = start_web(None, db, tmp_path / "web.log",
                           {"CIVIC311_DATA_DIR": str(tmp_path / "data")})
    try:
        page = _login(chromium, base, "m1")
        page.click("text=Scheduled reports")
        page.fill("#subscribe input[name=name]", "Council clerk")
        page.fill("#subscribe input[name=email]", "clerk@council.example")
        page.select_option("#subscribe select[name=frequency]", "monthly")
        page.select_option("#subscribe select[name=kind]", "summary")
        page.click("#subscribe button[type=submit]")
        row = page.wait_for_selector("#subscriptions tbody tr[data-id]", timeout=10000)
        assert "Council clerk" in row.text_content() and "monthly" in row.text_content()
        assert "will get the monthly report" in page.text_content("body")
        with db.session() as s:
            sub = s.scalars(sa.select(ReportSubscription)).one()
            assert (sub.email, sub.frequency, sub.created_by) == (
                "clerk@council.example", "monthly", "m1")
        page.click("#subscriptions button:has-text('Remove')")
        page.wait_for_selector("text=Nobody is subscribed yet.", timeout=10000)
        with db.session() as s:
            assert s.scalars(sa.select(ReportSubscription)).one().removed_at is not None
        page.close()

        agent = _login(chromium, base, "a1")
        res = agent.goto(f"{base}/crm/reports/subscriptions")
        assert res is not None and res.status == 403
        assert "Scheduled reports" not in agent.text_content("body")
        agent.close()
    finally:
        stop_web(proc)
