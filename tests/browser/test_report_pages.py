"""Headless Chromium opens each report page as a role that may (and sees figures, not an
empty shell) and as one that may not (refused); the public page needs no log-in and shows
no personal data. With CIVIC311_SCREENSHOTS=DIR the pages are also saved as the README's
screenshots."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from acd.models import CallRecord
from center.history import HistoryOptions, seed_history
from center.seed import seed_demo
from foundation.db import Database
from foundation.settings import load_settings
from foundation.users import Role, create_user
from tests.browser.conftest import start_web, stop_web
from tests.conftest import TEST_PASSWORD, make_database

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PAST = HistoryOptions(months=2.0, volume=60, tickets_per_day=8, seed=21, plan=False)
# page, a role that may open it, a role that may not, what must be on it
PAGES = [
    ("/reports/calls?by=week", "manager", "agent", "#periods tbody tr"),
    ("/reports/intervals", "supervisor", "agency", "table"),
    ("/crm/reports/requests", "manager", "agent", "#backlog tbody tr[data-agency]"),
    ("/calls", "supervisor", "agent", "#calls tbody tr[data-uniqueid]"),
    ("/crm/reports/hotspots", "manager", "agent", "#spots tbody tr[data-count]"),
]


@pytest.fixture
def center(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    data = tmp_path / "data"
    for db in make_database("postgres", tmp_path):
        settings = load_settings(data_dir=str(data), database_url=db.url)
        list(seed_demo(settings, db))
        list(seed_history(settings, db, PAST))
        with db.session() as s:
            for role in Role:
                create_user(s, f"b_{role.value}", TEST_PASSWORD, role.value,
                            agent_ext="100" if role is Role.AGENT else None,
                            agency="DSNY" if role is Role.AGENCY else None)
        yield db, data


def log_in(browser: Any, base: str, role: str) -> Any:
    """A new browser context (its own cookies) logged in as ``role``; returns its page."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", f"b_{role}")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"log-in as {role} failed"
    return page


def test_report_pages_by_role_and_the_public_page(center: tuple[Database, Path],
                                                  tmp_path: Path, chromium: Any) -> None:
    db, data = center
    shots = os.environ.get("CIVIC311_SCREENSHOTS")
    proc, base = start_web(None, db, tmp_path / "web.log", {"CIVIC311_DATA_DIR": str(data)})
    try:
        pages = {role: log_in(chromium, base, role)
                 for role in {r for _, a, b, _ in PAGES for r in (a, b)} | {"manager"}}
        for path, may, may_not, selector in PAGES:
            page = pages[may]
            res = page.goto(base + path)
            assert res is not None and res.status == 200, (path, may)
            assert page.locator(selector).count() > 0, (path, "shows figures")
            res = pages[may_not].goto(base + path)
            assert res is not None and res.status == 403, (path, may_not)
        # the hot-spot map draws one circle per spot, tiles or none (the tests run offline)
        page = pages["manager"]
        page.goto(base + "/crm/reports/hotspots")
        page.wait_for_selector("#hotmap path.leaflet-interactive", state="attached")
        assert page.locator("#hotmap path.leaflet-interactive").count() == min(
            200, int(page.get_attribute("#hotmap", "data-points-weight").count(",")) + 1)
        if shots:
            page = pages["manager"]
            page.goto(base + "/reports/calls?by=week")
            page.screenshot(path=str(Path(shots) / "calls-report.png"), full_page=True)

        public = chromium.new_page(viewport={"width": 1100, "height": 900})  # nobody logged in
        res = public.goto(base + "/performance")
        assert res is not None and res.status == 200
        months = public.locator("#months tbody tr")
        assert months.count() == 12
        assert int(public.text_content("#months tbody tr:nth-child(2) td:nth-child(2)")
                   or "0") > 100  # last month's calls
        assert public.locator("#sl-chart rect").count() >= 2
        text = public.inner_text("body")
        with db.session() as s:
            numbers = {n for n in s.scalars(sa.select(CallRecord.caller_number).limit(500)) if n}
        assert numbers and not [n for n in numbers if n in text]
        assert not re.search(r"\+1\d{10}", public.content())
        if shots:
            public.screenshot(path=str(Path(shots) / "performance.png"), full_page=True)
    finally:
        stop_web(proc)
