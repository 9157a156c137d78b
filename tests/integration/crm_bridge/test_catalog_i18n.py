"""The catalog in Spanish, on SQLite and PostgreSQL: the demo catalog's ``i18n`` stored and
exported as imported; a bad block refused by ``civic311 catalog import`` with nothing
changed; Open311 ``services`` in Spanish by ``?locale=es`` or Accept-Language; the IVR's
Spanish FAQ read from the catalog; an English-only catalog exactly as before."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from crm_bridge.models import ServiceType
from crm_bridge.seed import DEMO_CATALOG
from crm_bridge.tickets.catalog import (
    export_catalog,
    import_catalog,
    load_file,
    upsert_service_type,
)
from foundation.db import Database
from ivr.knowledge import Knowledge
from ivr.menu import DEFAULT_MENU, load_menu


def _import(db: Database, tmp_path: Path, data: dict[str, Any]) -> Any:
    from center.cli import cli

    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "--database-url",
                                    db.url, "catalog", "import", str(path)])


def test_the_demo_catalog_is_stored_in_spanish_and_exports_as_imported(
        catalog: Database) -> None:
    with catalog.session() as s:
        pothole = s.scalar(select(ServiceType).where(ServiceType.code == "pothole"))
        assert pothole is not None and pothole.i18n is not None
        assert pothole.name == "Pothole" and pothole.i18n["es"]["name"] == "Bache"
        assert pothole.i18n["es"]["attributes"]["size"]["values"]["small"] == \
            "Más pequeño que un plato"
        assert all(st.i18n and st.i18n["es"]["name"] for st in s.scalars(select(ServiceType)))
        exported = export_catalog(s)
        entries = len(exported["agencies"]) + len(exported["service_types"])
        assert import_catalog(s, exported)[-1] == \
            f"catalog: 0 created, 0 updated, {entries} unchanged"
        # the staff form edits the English only: it keeps the translations, less the words
        # of a question it removes, so the catalog still exports and imports
        raw = next(t for t in exported["service_types"] if t["code"] == "pothole")
        form = {k: v for k, v in raw.items() if k != "i18n"}
        form["attributes"] = [a for a in raw["attributes"] if a["code"] == "size"]
        assert upsert_service_type(s, form)[1] == "updated"
        assert set(pothole.i18n["es"]["attributes"]) == {"size"}
        assert pothole.i18n["es"]["name"] == "Bache"
        assert import_catalog(s, export_catalog(s))[-1].endswith(
            f" 0 updated, {entries} unchanged")


def test_a_bad_translation_is_refused_and_nothing_changes(catalog: Database,
                                                          tmp_path: Path) -> None:
    data = load_file(DEMO_CATALOG)
    with catalog.session() as s:
        before = export_catalog(s)
    bad = copy.deepcopy(data)
    bad["service_types"][0]["name"] = "Pothole (renamed)"  # a good change before the bad one
    bad["service_types"][0]["i18n"]["es"]["name"] = "Bache nuevo"
    bad["service_types"][1]["i18n"]["es"]["attributes"]["depth"] = {"description": "¿Hondo?"}
    res = _import(catalog, tmp_path, bad)
    assert res.exit_code != 0
    assert "nothing imported: sewer-backup: i18n es.attributes has unknown 'depth'" in res.output
    bad = copy.deepcopy(data)
    bad["service_types"][0]["i18n"] = {"spanish": {"name": "Bache"}}
    res = _import(catalog, tmp_path, bad)
    assert res.exit_code != 0 and "i18n language 'spanish'" in res.output
    with catalog.session() as s:
        assert export_catalog(s) == before
    good = copy.deepcopy(data)
    good["service_types"][0]["i18n"]["es"]["name"] = "Bache en la calle"
    res = _import(catalog, tmp_path, good)
    assert res.exit_code == 0, res.output
    assert "service type pothole updated" in res.output and "1 updated" in res.output


def test_open311_services_in_spanish(app: Any, catalog: Database) -> None:
    c = app.test_client()

    def names(r: Any) -> dict[str, str]:
        return {x["service_code"]: x["service_name"] for x in r.get_json()}

    english = c.get("/open311/v2/services.json")
    assert names(english)["pothole"] == "Pothole"
    assert english.headers["Content-Language"] == "en"
    for r in (c.get("/open311/v2/services.json?locale=es"),
              c.get("/open311/v2/services.json?locale=es_US"),
              c.get("/open311/v2/services.json", headers={"Accept-Language": "es-US,en;q=0.5"})):
        spanish = {x["service_code"]: x for x in r.get_json()}
        assert spanish["pothole"]["service_name"] == "Bache"
        assert spanish["pothole"]["group"] == "Calles"
        assert [x["service_code"] for x in r.get_json()] == \
            [x["service_code"] for x in english.get_json()]  # the same types, the same order
        assert r.headers["Content-Language"] == "es" and "Accept-Language" in r.headers["Vary"]
    assert names(c.get("/open311/v2/services.json?locale=fr"))["pothole"] == "Pothole"
    assert "<service_name>Bache</service_name>" in c.get(
        "/open311/v2/services.xml?locale=es").get_data(as_text=True)
    size = c.get("/open311/v2/services/pothole.json?locale=es").get_json()["attributes"][0]
    assert size["code"] == "size" and size["description"] == "¿Qué tamaño tiene el bache?"
    assert [v["key"] for v in size["values"]] == ["small", "medium", "large"]
    assert size["values"][0]["name"] == "Más pequeño que un plato"
    size = c.get("/open311/v2/services/pothole.json").get_json()["attributes"][0]
    assert size["description"] == "How big is the pothole?"


def test_the_ivr_reads_the_spanish_faq_from_the_catalog(catalog: Database) -> None:
    menu = Knowledge(catalog, ttl_s=0).apply(load_menu(DEFAULT_MENU))
    trash = next(c for c in menu.faq if c.service == "missed-collection")
    assert trash.answer is not None
    assert trash.answer["en"].startswith("Put materials out after 4 PM")
    assert trash.answer["es"].startswith("Saque los materiales después de las 4 p. m.")


def test_an_english_only_catalog_is_as_before(app: Any, database: Database,
                                              tmp_path: Path) -> None:
    data = load_file(DEMO_CATALOG)
    for st in data["service_types"]:
        del st["i18n"]
    res = _import(database, tmp_path, data)
    assert res.exit_code == 0, res.output
    with database.session() as s:
        assert all(st.i18n is None for st in s.scalars(select(ServiceType)))
        assert all("i18n" not in t for t in export_catalog(s)["service_types"])
    c = app.test_client()
    spanish = c.get("/open311/v2/services.json?locale=es")
    assert spanish.headers["Content-Language"] == "en"
    assert spanish.get_json() == c.get("/open311/v2/services.json").get_json()
    page = c.get("/portal/report/pothole?lang=es").get_data(as_text=True)
    assert "Enviar la solicitud" in page  # the portal's own words in Spanish...
    assert "<h1>Pothole</h1>" in page and "How big is the pothole?" in page  # ...the type's
    menu = Knowledge(database, ttl_s=0).apply(load_menu(DEFAULT_MENU))
    trash = next(c for c in menu.faq if c.service == "missed-collection")
    assert trash.answer is not None and trash.answer["es"].startswith(  # the menu's own
        "Saque los materiales después de las 4 de la tarde")
