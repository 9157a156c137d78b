"""Database side of the Open311 server: catalog and tickets as GeoReport v2 dicts."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm_bridge.models import Agency, ServiceType, Ticket
from crm_bridge.open311.public_view import DEFAULT_DECIMALS, public_view
from crm_bridge.open311.wire import RequestQuery, iso
from crm_bridge.tickets import translations
from crm_bridge.tickets.business_calendar import SlaPolicy, SlaUnit
from crm_bridge.tickets.lifecycle import State, plain


class Catalog:
    """Service types and agencies by id, loaded once per request (a few dozen rows)."""

    def __init__(self, session: Session) -> None:
        self.types = {s.id: s for s in session.scalars(select(ServiceType))}
        self.by_code = {s.code: s for s in self.types.values()}
        self.agencies = {a.id: a for a in session.scalars(select(Agency))}


def service_dict(st: ServiceType, lang: str = "en") -> dict[str, Any]:
    """A service list entry; name, description and group in ``lang`` where the catalog
    translates them (``?locale=`` / Accept-Language), the code and keywords as they are."""
    tr = st.i18n
    return {"service_code": st.code, "service_name": translations.text(tr, lang, "name", st.name),
            "description": translations.text(tr, lang, "description", st.description),
            "metadata": bool(st.attributes), "type": "realtime", "keywords": st.keywords,
            "group": translations.text(tr, lang, "group", st.group)}


def definition_dict(st: ServiceType, lang: str = "en") -> dict[str, Any]:
    """A service definition; the questions and choice names in ``lang``, codes and keys
    (what a POST sends) the same in every language."""
    defs = translations.definitions(st.attributes or [], st.i18n, lang)
    return {"service_code": st.code, "attributes": [
        {"variable": a.get("variable", True), "code": a["code"], "datatype": a["datatype"],
         "required": a.get("required", False),
         "datatype_description": a.get("datatype_description") or None,
         "order": a.get("order", i + 1), "description": a.get("description", a["code"]),
         **({"values": [{"key": v["key"], "name": v["name"]} for v in a.get("values", [])]}
            if a["datatype"] in ("singlevaluelist", "multivaluelist") else {})}
        for i, a in enumerate(defs)]}


def request_dict(t: Ticket, cat: Catalog, tz: tzinfo, extensions: bool = False,
                 parent_number: str | None = None,
                 decimals: int = DEFAULT_DECIMALS) -> dict[str, Any]:
    """A request as the public sees it: location, description and notes through the one
    public view (``public_view``); no contact data, no GIS address id."""
    st = cat.types[t.service_type_id]
    agency = cat.agencies[t.agency_id]
    state = State(t.state)
    pv = public_view(t, st.public_description, decimals)
    out: dict[str, Any] = {
        "service_request_id": t.number,
        "status": "closed" if state is State.CLOSED else "open",
        "status_notes": pv.status_notes,
        "service_name": st.name,
        "service_code": st.code,
        "description": pv.description,
        "agency_responsible": agency.name,
        "service_notice": f"Expected within {_sla_words(st)}",
        "requested_datetime": iso(t.requested_at, tz),
        "updated_datetime": iso(t.closed_at if state is State.CLOSED and t.closed_at
                                else t.updated_at, tz),
        "expected_datetime": iso(t.due_at, tz),
        "address": pv.address,
        "address_id": None,  # a GIS address point names one house
        "zipcode": pv.zipcode,
        "lat": pv.lat,
        "long": pv.long,
        "media_url": pv.media_url,
    }
    if extensions:
        out["extended_attributes"] = {
            "detailed_status": state.value.upper(),
            "detailed_status_text": plain(state),
            "channel": t.channel,
            "closure_reason": t.closure_reason,
            "parent_service_request_id": parent_number,
            "link_kind": t.link_kind,
            # the district of each layer the request lies in (council district, ward, zone):
            # coarse public geography, the same as the reports count by
            "districts": {d.layer: d.code for d in t.districts},
        }
    return out


def _sla_words(st: ServiceType) -> str:
    return SlaPolicy(SlaUnit(st.sla_unit), float(st.sla_amount)).describe()


def request_select(q: RequestQuery, cat: Catalog) -> Select[Ticket] | None:
    """The filtered, ordered, paged select; None when the filters can match nothing."""
    stmt = select(Ticket)
    if q.ids is not None:
        return stmt.where(Ticket.number.in_(q.ids)).order_by(Ticket.requested_at.desc(),
                                                             Ticket.id.desc())
    if q.service_codes is not None:
        ids = [cat.by_code[c].id for c in q.service_codes if c in cat.by_code]
        if not ids:
            return None
        stmt = stmt.where(Ticket.service_type_id.in_(ids))
    if q.statuses is not None and set(q.statuses) != {"open", "closed"}:
        stmt = stmt.where(Ticket.wire_status == q.statuses[0])
    if q.start is not None:
        stmt = stmt.where(Ticket.requested_at >= q.start)
    if q.end is not None:
        stmt = stmt.where(Ticket.requested_at <= q.end)
    if q.updated_after is not None:
        stmt = stmt.where(Ticket.updated_at > q.updated_after)
    if q.updated_before is not None:
        stmt = stmt.where(Ticket.updated_at < q.updated_before)
    if q.updated_after is not None or q.updated_before is not None:
        order = (Ticket.updated_at.asc(), Ticket.id.asc())  # a sync cursor walks forward
    else:
        order = (Ticket.requested_at.desc(), Ticket.id.desc())
    return (stmt.order_by(*order).offset((q.page - 1) * q.page_size).limit(q.page_size + 1))


def parent_numbers(session: Session, tickets: list[Ticket]) -> dict[int, str]:
    ids = {t.parent_id for t in tickets if t.parent_id}
    if not ids:
        return {}
    rows = session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids))).all()
    return {i: n for i, n in rows if n is not None}


def catalog_changed_at(session: Session) -> datetime | None:
    """When the service catalog last changed (the discovery changeset)."""
    return session.scalar(select(func.max(ServiceType.updated_at)))


def active_services(session: Session) -> list[ServiceType]:
    """The service types residents may request, by group then name."""
    return list(session.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                                .order_by(ServiceType.group, ServiceType.name)))


def active_service(session: Session, code: str) -> ServiceType | None:
    return session.scalar(select(ServiceType).where(ServiceType.code == code,
                                                    ServiceType.active.is_(True)))


def ticket_by_number(session: Session, number: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.number == number.strip()))


def ticket_by_token(session: Session, token: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.token == token.strip()))
