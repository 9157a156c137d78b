"""Probing questions as Open311 attributes (pure): definitions and answers.

The six GeoReport v2 datatypes: string, number, datetime, text, singlevaluelist,
multivaluelist. ``variable: false`` marks information only (read, never asked).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_bridge.tickets.errors import InvalidInput

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = ("singlevaluelist", "multivaluelist")


def normalize_definition(raw: dict[str, Any], position: int) -> dict[str, Any]:
    """A clean attribute definition, or InvalidInput naming what is wrong."""
    code = str(raw.get("code") or "").strip()
    if not code or not code.replace("_", "").replace("-", "").isalnum():
        raise InvalidInput("attribute_code", f"attribute {position}: code must be letters/digits")
    datatype = str(raw.get("datatype") or "string")
    if datatype not in DATATYPES:
        raise InvalidInput("attribute_datatype",
                           f"attribute {code}: datatype must be one of {', '.join(DATATYPES)}")
    values = [{"key": str(v["key"]), "name": str(v.get("name", v["key"]))}
              for v in raw.get("values") or []]
    if datatype in LIST_TYPES and not values:
        raise InvalidInput("attribute_values", f"attribute {code}: a list needs values")
    return {
        "code": code,
        "datatype": datatype,
        "description": str(raw.get("description") or code),
        "datatype_description": str(raw.get("datatype_description") or ""),
        "required": bool(raw.get("required", False)),
        "variable": bool(raw.get("variable", True)),
        "order": int(raw.get("order") or position),
        "values": values,
    }


def normalize_definitions(raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    defs = [normalize_definition(r, i + 1) for i, r in enumerate(raws)]
    codes = [d["code"] for d in defs]
    if len(set(codes)) != len(codes):
        raise InvalidInput("attribute_duplicate", "attribute codes must be unique")
    return sorted(defs, key=lambda d: d["order"])


def _one(d: dict[str, Any], value: str) -> Any:
    kind = d["datatype"]
    if kind == "number":
        try:
            num = float(value)
        except ValueError:
            raise ValueError("must be a number") from None
        if num != num or num in (float("inf"), float("-inf")):
            raise ValueError("must be a number")
        return int(num) if num.is_integer() else num
    if kind == "datetime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an ISO 8601 date/time") from None
        return value
    if kind == "singlevaluelist":
        keys = {v["key"] for v in d["values"]}
        if value not in keys:
            raise ValueError(f"must be one of {', '.join(sorted(keys))}")
        return value
    if kind == "string" and ("\n" in value or len(value) > 255):
        raise ValueError("must be one line of at most 255 characters")
    if len(value) > 4000:
        raise ValueError("is too long")
    return value


def validate_answers(defs: list[dict[str, Any]],
                     raw: dict[str, str | list[str]]) -> dict[str, Any]:
    """Check the caller's answers against the definitions; unknown codes are dropped."""
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for d in defs:
        if not d.get("variable", True):
            continue
        code = d["code"]
        value = raw.get(code)
        values = [value] if isinstance(value, str | int | float) else list(value or [])
        values = [str(v).strip() for v in values if v is not None and str(v).strip()]
        if not values:
            if d.get("required"):
                problems.append((code, f"{d['description']} is required"))
            continue
        try:
            if d["datatype"] == "multivaluelist":
                keys = {v["key"] for v in d["values"]}
                bad = [v for v in values if v not in keys]
                if bad:
                    raise ValueError(f"must be among {', '.join(sorted(keys))}")
                out[code] = values
            else:
                out[code] = _one(d, values[0])
        except ValueError as exc:
            problems.append((code, f"{d['description']} {exc}"))
    if problems:
        raise InvalidInput("attribute_invalid", "; ".join(m for _, m in problems), problems)
    return out


def answer_label(d: dict[str, Any], value: Any) -> str:
    """Human text of an answer (list keys shown by name)."""
    names = {v["key"]: v["name"] for v in d.get("values", [])}
    if isinstance(value, list):
        return ", ".join(str(names.get(v, v)) for v in value)
    return str(names.get(value, value))
