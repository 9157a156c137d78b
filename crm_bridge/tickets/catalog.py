"""The service catalog: agencies with their escalation ladder, service types with SLA,
probing questions, script and FAQ. Import is an idempotent upsert from YAML or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import Agency, EscalationContact, ServiceType
from crm_bridge.tickets.attributes import normalize_definitions
from crm_bridge.tickets.business_calendar import SlaUnit
from crm_bridge.tickets.errors import InvalidInput
from crm_bridge.tickets.translations import normalize_translations, prune
from foundation.header_values import email_problem, has_control

AGENCY_FIELDS = ("name", "email", "phone")


def load_file(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise InvalidInput("catalog_format", "a catalog file holds 'agencies' and 'service_types'")
    return data


def _set(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def upsert_agency(session: Session, raw: dict[str, Any]) -> tuple[Agency, str]:
    code = str(raw.get("code") or "").strip().upper()
    if not code or not raw.get("name"):
        raise InvalidInput("agency", "every agency needs a code and a name")
    if has_control(code) or has_control(str(raw["name"]).strip()):  # both go into mail text
        raise InvalidInput("agency_name", f"{code!r}: no line breaks or control characters "
                           "in an agency's code or name")
    ext = raw.get("external") or {}
    addresses = [raw.get("email"), ext.get("email"),
                 *(c.get("email") for c in raw.get("contacts") or [])]
    for address in addresses:
        problem = email_problem(str(address)) if address else None
        if problem:
            raise InvalidInput("agency_email", f"{code}: {problem}")
    agency = session.scalar(select(Agency).where(Agency.code == code))
    verb = "unchanged"
    if agency is None:
        agency = Agency(code=code, name=raw["name"])
        session.add(agency)
        verb = "created"
    values = {k: raw.get(k) for k in AGENCY_FIELDS if k in raw}
    values.update({"external_kind": ext.get("kind"), "external_url": ext.get("url"),
                   "external_api_key": ext.get("api_key"), "external_email": ext.get("email")})
    if _set(agency, values) and verb == "unchanged":
        verb = "updated"
    if "contacts" in raw:
        wanted = sorted((int(c.get("level", 1)), str(c["name"]), str(c.get("title", "")),
                         str(c["email"])) for c in raw["contacts"])
        have = sorted((c.level, c.name, c.title, c.email) for c in agency.contacts)
        if wanted != have:
            agency.contacts = [EscalationContact(level=lv, name=n, title=ti, email=e)
                               for lv, n, ti, e in wanted]
            verb = "updated" if verb == "unchanged" else verb
    session.flush()
    return agency, verb


def upsert_service_type(session: Session, raw: dict[str, Any]) -> tuple[ServiceType, str]:
    code = str(raw.get("code") or "").strip()
    if not code or not raw.get("name"):
        raise InvalidInput("service_type", "every service type needs a code and a name")
    if has_control(code) or has_control(str(raw["name"]).strip()):  # both go into mail subjects
        raise InvalidInput("service_type_name", f"{code!r}: no line breaks or control "
                           "characters in a service type's code or name")
    agency = session.scalar(select(Agency).where(Agency.code == str(raw.get("agency", "")).upper()))
    if agency is None:
        raise InvalidInput("service_type_agency", f"{code}: unknown agency {raw.get('agency')!r}")
    sla = raw.get("sla") or {}
    try:
        unit = SlaUnit(sla.get("unit", "business_days")).value
    except ValueError:
        raise InvalidInput("sla_unit", f"{code}: SLA unit must be one of "
                           f"{', '.join(u.value for u in SlaUnit)}") from None
    amount = float(sla.get("amount", 5))
    if not amount > 0:
        raise InvalidInput("sla_amount", f"{code}: the SLA must be positive")
    keywords = raw.get("keywords") or ""
    routes = _district_routes(session, code, raw.get("route_by_district"))
    attributes = normalize_definitions(raw.get("attributes") or [])
    values = {
        "name": str(raw["name"]), "group": str(raw.get("group", "")),
        "description": str(raw.get("description", "")),
        "keywords": ", ".join(keywords) if isinstance(keywords, list) else str(keywords),
        "agency_id": agency.id, "sla_unit": unit, "sla_amount": amount,
        "script": str(raw.get("script", "")), "faq": str(raw.get("faq", "")),
        "attributes": attributes,
        "active": bool(raw.get("active", True)),
        "public_description": bool(raw.get("public_description", False)),
    }
    if "route_by_district" in raw:  # a form that does not show the rule keeps it
        values["district_routes"] = routes
    if "i18n" in raw:  # likewise the translations (the staff form is English only;
        # it drops the words of the questions and choices it removes, below)
        values["i18n"] = normalize_translations(code, raw["i18n"], attributes)
    st = session.scalar(select(ServiceType).where(ServiceType.code == code))
    if st is not None and "i18n" not in raw and st.i18n:
        values["i18n"] = prune(st.i18n, attributes)
    if st is None:
        st = ServiceType(code=code, **values)
        session.add(st)
        session.flush()
        return st, "created"
    verb = "updated" if _set(st, values) else "unchanged"
    session.flush()
    return st, verb


def _district_routes(session: Session, code: str, raw: Any) -> dict[str, Any] | None:
    """``route_by_district: {layer: sanitation_zone, agencies: {north: DSNY-N, ...}}``:
    a ticket in a listed district of the layer goes to that agency."""
    if not raw:
        return None
    layer = str(raw.get("layer") or "").strip() if isinstance(raw, dict) else ""
    routes = raw.get("agencies") if isinstance(raw, dict) else None
    if not layer or not isinstance(routes, dict) or not routes:
        raise InvalidInput("route_by_district", f"{code}: route_by_district needs a layer and "
                           "agencies (district code -> agency code)")
    known = set(session.scalars(select(Agency.code)))
    out = {str(k): str(v).upper() for k, v in routes.items()}
    unknown = sorted(set(out.values()) - known)
    if unknown:
        raise InvalidInput("route_by_district", f"{code}: unknown agency {unknown[0]!r}")
    return {"layer": layer, "agencies": out}


def import_catalog(session: Session, data: dict[str, Any]) -> list[str]:
    """Upsert agencies then service types; returns one line per changed entry and a summary."""
    lines: list[str] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for raw in data.get("agencies") or []:
        agency, verb = upsert_agency(session, raw)
        counts[verb] += 1
        if verb != "unchanged":
            lines.append(f"agency {agency.code} {verb}")
    for raw in data.get("service_types") or []:
        st, verb = upsert_service_type(session, raw)
        counts[verb] += 1
        if verb != "unchanged":
            lines.append(f"service type {st.code} {verb}")
    lines.append("catalog: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return lines


def export_catalog(session: Session) -> dict[str, Any]:
    """The catalog in the import format (round-trips through ``import_catalog``)."""
    agencies = []
    for a in session.scalars(select(Agency).order_by(Agency.code)):
        entry: dict[str, Any] = {"code": a.code, "name": a.name, "email": a.email,
                                 "phone": a.phone,
                                 "contacts": [{"level": c.level, "name": c.name,
                                               "title": c.title, "email": c.email}
                                              for c in a.contacts]}
        if a.external_kind:
            entry["external"] = {"kind": a.external_kind, "url": a.external_url,
                                 "api_key": a.external_api_key, "email": a.external_email}
        agencies.append(entry)
    types = [{"code": s.code, "name": s.name, "group": s.group, "description": s.description,
              "keywords": s.keywords, "agency": s.agency.code,
              "sla": {"unit": s.sla_unit, "amount": s.sla_amount}, "script": s.script,
              "faq": s.faq, "attributes": s.attributes, "active": s.active,
              "public_description": s.public_description,
              **({"route_by_district": s.district_routes} if s.district_routes else {}),
              **({"i18n": s.i18n} if s.i18n else {})}
             for s in session.scalars(select(ServiceType).order_by(ServiceType.code))]
    return {"agencies": agencies, "service_types": types}
