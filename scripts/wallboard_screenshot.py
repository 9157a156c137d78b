"""Regenerate docs/wallboard.png: a real PBX, daemon and web server with SIPp agents and
callers, photographed by headless Chromium. Run as root:
``CIVIC311_TEST_PORT_OFFSET=4000 .venv/bin/python scripts/wallboard_screenshot.py``."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from foundation.settings import default_cache_dir  # noqa: E402
from foundation.users import create_user  # noqa: E402
from tests.browser.conftest import start_web  # noqa: E402
from tests.conftest import TEST_PASSWORD  # noqa: E402
from tests.integration.acd.test_mixed_calls import place_mix  # noqa: E402
from tests.support.pbx import make_pbx, running_daemon  # noqa: E402


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.conftest import make_database

    tmp = Path(tempfile.mkdtemp(prefix="civic311-shot-"))
    pbx = make_pbx(tmp, default_cache_dir())
    pbx.start()
    gen = make_database("postgres", tmp)
    db = next(gen)
    with db.session() as s:
        create_user(s, "sup1", TEST_PASSWORD, "supervisor", full_name="Shift Supervisor")
    web = None
    try:
        with running_daemon(pbx, db.url, tmp / "daemon.log"):
            web, base = start_web(pbx, db, tmp / "web.log")
            callers = place_mix(pbx)
            pbx.rx("queue pause member PJSIP/agent103 queue citywide reason lunch")
            time.sleep(25)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/login")
                page.fill("input[name=username]", "sup1")
                page.fill("input[name=password]", TEST_PASSWORD)
                page.click("button[type=submit]")
                page.goto(f"{base}/wallboard")
                page.wait_for_selector('[data-queue="citywide"]')
                time.sleep(2)
                page.screenshot(path=str(ROOT / "docs" / "wallboard.png"), full_page=True)
                browser.close()
            for c in callers:
                c.stop()
    finally:
        if web is not None:
            web.terminate()
        pbx.stop_phones()
        pbx.stop()
        gen.close()


if __name__ == "__main__":
    main()
