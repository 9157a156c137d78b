"""A resident on a phone-sized screen files a request with a photo in English (by address,
suggested as they type) and in Spanish (by a pin on the map), checks it and says the work
was not done; the map tiles are unreachable throughout (the tests run offline) and the pages
still work; axe-core (from node_modules, injected) finds no serious WCAG 2.1 AA violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crm_bridge.config import CrmConfig
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from foundation.db import Database
from places.seed import seed_places
from tests.browser.conftest import free_port, start_web, stop_web
from tests.conftest import make_database

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def city(tmp_path: Path) -> Iterator[Database]:
    for db in make_database("postgres", tmp_path):
        with db.session() as s:
            seed_catalog(s, None)
            seed_places(s)
        yield db


def serious_violations(page: Any) -> list[str]:
    if not AXE.is_file():
        pytest.fail("axe-core is not installed: make browser-deps (npm ci)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})""")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def test_a_resident_files_checks_and_reopens_on_a_phone(city: Database, tmp_path: Path,
                                                        chromium: Any) -> None:
    dead_tiles = f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"  # nothing listens
    proc, base = start_web(None, city, tmp_path / "web.log",
                           {"CIVIC311_DATA_DIR": str(tmp_path / "data"),
                            "CIVIC311_MAP_TILE_URL": dead_tiles})
    photo = tmp_path / "hole.png"
    photo.write_bytes(PNG)
    try:
        ctx = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = ctx.new_page()
        # English: the type by search, the address suggested as it is typed
        page.goto(f"{base}/portal/?lang=en")
        assert serious_violations(page) == []
        page.fill("#q", "pothol")
        assert page.is_hidden("text=Missed Trash Collection")
        page.click("#types a:text-is('Pothole')")
        page.wait_for_selector(".leaflet-container")
        page.wait_for_function(
            "document.getElementById('pin-status').textContent.includes('could not be loaded')")
        assert serious_violations(page) == []
        page.type("#address", "104 washi", delay=30)
        page.wait_for_function("document.querySelectorAll('#address-options option').length > 0")
        options = page.eval_on_selector_all("#address-options option", "os => os.map(o => o.value)")
        assert "104 Washington St" in options
        page.fill("#address", "104 Washington St")
        assert page.input_value("#lat") != ""  # the chosen suggestion placed it
        page.check("input[name='attr.size'][value='large']")
        page.fill("#email", "resident@example.org")
        page.set_input_files("#photo", str(photo))
        page.click("button[type=submit].primary")
        page.wait_for_selector("[data-field=number]")
        number = page.text_content("[data-field=number]").strip()
        assert re.fullmatch(r"\d{9}", number)
        assert "Expected to be handled by" in page.text_content(".received")
        assert serious_violations(page) == []

        # Spanish: a pin on the map (with no tiles) fills the nearest address
        page.goto(f"{base}/portal/report/pothole?lang=es")
        assert page.get_attribute("html", "lang") == "es"
        # the type, its question and its choices in the catalog's Spanish (docs/catalog.md)
        assert page.text_content("h1") == "Bache"
        assert page.get_by_role("group", name="¿Qué tamaño tiene el bache? (obligatorio)") \
            .get_by_label("Más pequeño que un plato").get_attribute("value") == "small"
        page.wait_for_selector(".leaflet-container")
        page.click("#pin", position={"x": 120, "y": 100})
        page.wait_for_function("document.getElementById('address').value !== ''")
        page.check("input[name='attr.size'][value='small']")
        page.set_input_files("#photo", str(photo))
        page.click("button[type=submit].primary")
        page.wait_for_selector("[data-field=number]")
        assert "Recibimos su solicitud" in page.text_content(".received")
        assert serious_violations(page) == []

        # the first request is closed; its resident says the work was not done
        with city.session() as s:
            service.close(s, service.get_ticket(s, number), "dot1", "resolved", "Filled.",
                          config=CrmConfig(secret_key="browser-test"))
        page.goto(f"{base}/portal/?lang=en")
        page.fill("#number", number)
        page.click("section[aria-labelledby=check-h] button")
        page.wait_for_selector("text=Work not done?")
        assert page.text_content("[data-field=state]") == "closed"
        assert serious_violations(page) == []
        page.fill("#contact", "resident@example.org")
        page.fill("#text", "The hole is still there")
        page.click("section[aria-labelledby=notdone-h] button")
        page.wait_for_selector("text=Your request was reopened")
        assert page.text_content("[data-field=state]") == "reopened"
        with city.session() as s:
            t = service.get_ticket(s, number)
            assert (t.channel, t.language, t.media_url is not None) == ("web", "en", True)
            spanish = [x for x in s.scalars(service.select(service.Ticket))
                       if x.language == "es"]
            assert len(spanish) == 1 and spanish[0].address and spanish[0].districts
            assert spanish[0].attributes == {"size": "small"}  # the key, as in English
        ctx.close()
    finally:
        stop_web(proc)
