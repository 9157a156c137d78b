"""Mapper for Open311 destinations: a ticket as the GeoReport v2 ``POST requests`` form."""

from __future__ import annotations

from typing import Any

from crm_bridge.models import Agency, Ticket


def request_form(t: Ticket, agency: Agency) -> dict[str, Any]:
    """The form fields for ``POST requests.json`` at ``agency``'s endpoint."""
    data: dict[str, Any] = {
        "api_key": agency.external_api_key or "", "service_code": t.service_type.code,
        "description": t.description or t.service_type.name,
    }
    if t.lat is not None and t.long is not None:
        data.update(lat=str(t.lat), long=str(t.long))
    for key, value in (("address_string", t.address), ("address_id", t.address_id),
                       ("email", t.email), ("phone", t.phone), ("first_name", t.first_name),
                       ("last_name", t.last_name), ("media_url", t.media_url)):
        if value:
            data[key] = value
    if not any(k in data for k in ("lat", "address_string", "address_id")):
        data["address_string"] = "unknown"
    for code, value in (t.attributes or {}).items():
        if isinstance(value, list):
            data[f"attribute[{code}][]"] = value
        else:
            data[f"attribute[{code}]"] = str(value)
    return data
