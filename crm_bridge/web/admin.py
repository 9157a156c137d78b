"""Admin pages of the service catalog: agencies with their escalation ladder, service types
(SLA, probing questions, script, FAQ), import from a YAML/JSON file and export.

Every save goes through the same upsert as the file import (``crm_bridge.tickets.catalog``), so the
page and the file obey one set of rules; a refused save or import changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from crm_bridge.models import Agency, ServiceType
from crm_bridge.tickets import catalog
from crm_bridge.tickets.attributes import DATATYPES
from crm_bridge.tickets.business_calendar import SlaUnit
from crm_bridge.tickets.errors import InvalidInput
from crm_bridge.web.context import CrmWeb, form_text
from foundation.auth import roles
from foundation.users import Role

ADMIN = "/crm/admin"
# What a malformed catalog (file or form) can raise inside the upserts.
BAD_CATALOG = (ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError)


def _problem(exc: Exception) -> str:
    if isinstance(exc, yaml.YAMLError):
        return f"not valid YAML: {str(exc).splitlines()[0]}"
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    return str(exc)


def _type_form(st: ServiceType | None, agencies: list[Agency]) -> dict[str, Any]:
    if st is None:
        return {"code": "", "name": "", "group": "", "description": "", "keywords": "",
                "agency": agencies[0].code if agencies else "", "sla_unit": "business_days",
                "sla_amount": 5, "script": "", "faq": "", "attributes": "[]\n", "active": True,
                "public_description": False}
    return {"code": st.code, "name": st.name, "group": st.group,
            "description": st.description, "keywords": st.keywords,
            "agency": next(a.code for a in agencies if a.id == st.agency_id),
            "sla_unit": st.sla_unit, "sla_amount": st.sla_amount, "script": st.script,
            "faq": st.faq, "active": st.active, "public_description": st.public_description,
            "attributes": yaml.safe_dump(st.attributes or [], sort_keys=False,
                                         allow_unicode=True)}


def _contacts_text(a: Agency | None) -> str:
    if a is None:
        return ""
    return "\n".join(f"{c.level} | {c.name} | {c.title} | {c.email}" for c in a.contacts)


def _parse_contacts(text: str) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 4 or not parts[0].isdigit() or "@" not in parts[3]:
            raise InvalidInput("contacts", f"contact line {n}: write 'level | name | title | "
                                           f"email', e.g. '1 | Pat Lee | Supervisor | pat@x.org'")
        out.append({"level": int(parts[0]), "name": parts[1], "title": parts[2],
                    "email": parts[3]})
    return out


def register(bp: Blueprint, web: CrmWeb) -> None:
    """Add the catalog, service-type and agency admin pages."""

    @bp.route(f"{ADMIN}/catalog")
    @roles(Role.ADMIN)
    def catalog_page() -> Any:
        with web.db.session() as s:
            agencies = s.scalars(select(Agency).order_by(Agency.code)).all()
            types = s.scalars(select(ServiceType)
                              .order_by(ServiceType.group, ServiceType.name)).all()
            by_id = {a.id: a for a in agencies}
            rows = [(st, by_id[st.agency_id]) for st in types]
            for a in agencies:
                _ = a.contacts
        return render_template("crm/catalog.html", agencies=agencies, rows=rows)

    # the nav links to ``crm.catalog``
    bp.add_url_rule(f"{ADMIN}/", "catalog", catalog_page)

    @bp.route(f"{ADMIN}/catalog/import", methods=["POST"])
    @roles(Role.ADMIN)
    def catalog_import() -> Any:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a catalog file (YAML or JSON) to import.", "error")
            return redirect(url_for("crm.catalog_page")), 303
        text = upload.read().decode("utf-8", errors="replace")
        try:
            data = json.loads(text) if upload.filename.endswith(".json") else yaml.safe_load(text)
            if not isinstance(data, dict):
                raise InvalidInput("catalog_format",
                                   "a catalog file holds 'agencies' and 'service_types'")
            with web.db.session() as s:
                lines = catalog.import_catalog(s, data)
        except BAD_CATALOG as exc:
            flash(f"Nothing imported: {_problem(exc)}", "error")
            return redirect(url_for("crm.catalog_page")), 303
        for line in lines:
            flash(line, "ok")
        return redirect(url_for("crm.catalog_page")), 303

    @bp.route(f"{ADMIN}/catalog/export.yaml")
    @roles(Role.ADMIN)
    def catalog_export() -> Any:
        with web.db.session() as s:
            data = catalog.export_catalog(s)
        return Response(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                        mimetype="application/yaml",
                        headers={"Content-Disposition": 'attachment; filename="catalog.yaml"'})

    @bp.route(f"{ADMIN}/service-types/<code>", methods=["GET", "POST"])
    @roles(Role.ADMIN)
    def service_type_edit(code: str) -> Any:
        """Edit one service type; ``new`` makes a new one."""
        with web.db.session() as s:
            agencies = list(s.scalars(select(Agency).order_by(Agency.code)))
            st = None if code == "new" else s.scalar(select(ServiceType)
                                                     .where(ServiceType.code == code))
            if st is None and code != "new":
                flash(f"No service type {code!r}.", "error")
                return redirect(url_for("crm.catalog_page"))
            values = _type_form(st, agencies)
        error = None
        if request.method == "POST":
            f = request.form
            values = {k: form_text(f, k) for k in values
                      if k not in ("active", "public_description")}
            values["active"] = bool(f.get("active"))
            values["public_description"] = bool(f.get("public_description"))
            if code != "new":
                values["code"] = code
            try:
                attrs = yaml.safe_load(values["attributes"] or "[]") or []
                if not isinstance(attrs, list):
                    raise InvalidInput("attributes", "probing questions are a list of attributes")
                try:
                    amount = float(values["sla_amount"])
                except ValueError:
                    raise InvalidInput("sla_amount", "the SLA amount must be a number") from None
                raw = {**values, "attributes": attrs,
                       "sla": {"unit": values["sla_unit"], "amount": amount}}
                with web.db.session() as s:
                    if code == "new" and s.scalar(select(ServiceType).where(
                            ServiceType.code == values["code"])) is not None:
                        raise InvalidInput("code_taken", f"service code {values['code']!r} exists")
                    saved, verb = catalog.upsert_service_type(s, raw)
                    saved_code = saved.code
            except BAD_CATALOG as exc:
                error = _problem(exc)
            else:
                flash(f"Service type {saved_code} {verb}.", "ok")
                return redirect(url_for("crm.service_type_edit", code=saved_code)), 303
        return render_template("crm/service_type.html", v=values, new=code == "new",
                               agencies=agencies, units=[u.value for u in SlaUnit],
                               datatypes=DATATYPES, error=error), (400 if error else 200)

    @bp.route(f"{ADMIN}/agencies/<code>", methods=["GET", "POST"])
    @roles(Role.ADMIN)
    def agency_edit(code: str) -> Any:
        """Edit an agency: contact details, escalation ladder, external system; ``new`` adds one."""
        with web.db.session() as s:
            a = None if code == "new" else s.scalar(select(Agency).where(Agency.code == code))
            if a is None and code != "new":
                flash(f"No agency {code!r}.", "error")
                return redirect(url_for("crm.catalog_page"))
            values = {"code": a.code if a else "", "name": a.name if a else "",
                      "email": (a.email if a else "") or "", "phone": (a.phone if a else "") or "",
                      "contacts": _contacts_text(a),
                      "external_kind": (a.external_kind if a else "") or "",
                      "external_url": (a.external_url if a else "") or "",
                      "external_api_key": (a.external_api_key if a else "") or "",
                      "external_email": (a.external_email if a else "") or ""}
        error = None
        if request.method == "POST":
            f = request.form
            values = {k: form_text(f, k) for k in values}
            if code != "new":
                values["code"] = code
            try:
                kind = values["external_kind"] or None
                if kind not in (None, "open311", "email"):
                    raise InvalidInput("external_kind", "external system is none, open311 or email")
                if kind == "open311" and not values["external_url"].startswith(("http://",
                                                                                 "https://")):
                    raise InvalidInput("external_url", "an Open311 destination needs its URL")
                raw: dict[str, Any] = {
                    "code": values["code"], "name": values["name"],
                    "email": values["email"] or None, "phone": values["phone"] or None,
                    "contacts": _parse_contacts(values["contacts"]),
                    "external": {"kind": kind, "url": values["external_url"] or None,
                                 "api_key": values["external_api_key"] or None,
                                 "email": values["external_email"] or None} if kind else {}}
                with web.db.session() as s:
                    if code == "new" and s.scalar(select(Agency).where(
                            Agency.code == values["code"].upper())) is not None:
                        raise InvalidInput("code_taken", f"agency {values['code']!r} exists")
                    saved, verb = catalog.upsert_agency(s, raw)
                    saved_code = saved.code
            except BAD_CATALOG as exc:
                error = _problem(exc)
            else:
                flash(f"Agency {saved_code} {verb}.", "ok")
                return redirect(url_for("crm.agency_edit", code=saved_code)), 303
        return render_template("crm/agency.html", v=values, new=code == "new",
                               error=error), (400 if error else 200)
