"""Places tables: the city's address points and its district polygons (by layer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


class AddressPoint(Base):
    __tablename__ = "places_addresses"
    __table_args__ = (Index("ix_places_addresses_street_number", "street", "number"),
                      Index("ix_places_addresses_lat_long", "lat", "long"))

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[str] = mapped_column(String(64), unique=True)  # the city's id
    text: Mapped[str] = mapped_column(String(255))  # as published: "123 N Main St"
    normalized: Mapped[str] = mapped_column(String(255))  # "123 N MAIN ST"
    number: Mapped[str] = mapped_column(String(16))
    street: Mapped[str] = mapped_column(String(128))  # normalised: "N MAIN ST"
    zipcode: Mapped[str] = mapped_column(String(10), default="")
    lat: Mapped[float] = mapped_column(Float)
    long: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class District(Base):
    __tablename__ = "places_districts"
    __table_args__ = (UniqueConstraint("layer", "code", name="uq_places_districts_layer_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    layer: Mapped[str] = mapped_column(String(32))  # council_district, ward, sanitation_zone
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)  # GeoJSON, longitude/latitude
    min_long: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_long: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
