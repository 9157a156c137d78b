"""CRM tables: catalog (agencies, escalation contacts, service types), tickets, activity log,
notifications, the outbox to external CRMs and the updates they send back, Open311 API keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.db import Base, UTCDateTime, utcnow


class Agency(Base):
    __tablename__ = "crm_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(255), default=None)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    # Where tickets are sent after local save: None (worked here), "open311", "email".
    external_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    external_url: Mapped[str | None] = mapped_column(String(255), default=None)
    external_api_key: Mapped[str | None] = mapped_column(String(255), default=None)
    external_email: Mapped[str | None] = mapped_column(String(255), default=None)

    contacts: Mapped[list[EscalationContact]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="EscalationContact.level")


class EscalationContact(Base):
    """Level 1 is the first line of oversight (the unit supervisor), higher levels above it."""

    __tablename__ = "crm_escalation_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("crm_agencies.id", ondelete="CASCADE"),
                                           index=True)
    level: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(255))

    agency: Mapped[Agency] = relationship(back_populates="contacts")


class ServiceType(Base):
    __tablename__ = "crm_service_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # Open311 service_code
    name: Mapped[str] = mapped_column(String(128))
    group: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(String(255), default="")
    agency_id: Mapped[int] = mapped_column(ForeignKey("crm_agencies.id"), index=True)
    sla_unit: Mapped[str] = mapped_column(String(16), default="business_days")
    sla_amount: Mapped[float] = mapped_column(Float, default=5.0)
    script: Mapped[str] = mapped_column(Text, default="")  # what the agent reads
    faq: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # other languages' words: {"es": {"name", "group", "description", "faq",
    # "attributes": {code: {"description", "values": {key: name}}}}}; None: English only
    # (crm_bridge/tickets/translations.py)
    i18n: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # a routing rule by district: {"layer": "sanitation_zone", "agencies": {"north": "DSNY-N"}};
    # a ticket in a listed district goes to that agency, any other to ``agency``
    district_routes: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    active: Mapped[bool] = mapped_column(default=True)
    # The resident's description (masked) and photo link are public for this type only when
    # set (crm_bridge/open311/public_view.py); off unless the catalog says so.
    public_description: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship()


NUMBERED = text("number IS NOT NULL")
OPEN_NUMBERED = text("state <> 'closed' AND number IS NOT NULL")
CLOSED = text("closed_at IS NOT NULL")


class Ticket(Base):
    """A service request. ``number`` is the universal ticket number (Verhoeff-checked digits)."""

    __tablename__ = "crm_tickets"
    __table_args__ = (
        Index("ix_crm_tickets_requested", "requested_at", "id"),
        Index("ix_crm_tickets_type_requested", "service_type_id", "requested_at"),
        Index("ix_crm_tickets_status_requested", "wire_status", "requested_at"),
        Index("ix_crm_tickets_updated", "updated_at", "id"),
        Index("ix_crm_tickets_agency_state", "agency_id", "state"),
        Index("ix_crm_tickets_type_state", "service_type_id", "state"),
        # the reports' scans (crm_bridge/tickets/reports.py): each holds every column its
        # report counts, so PostgreSQL answers from the index alone
        Index("ix_crm_tickets_open_due", "agency_id", "service_type_id", "due_at",
              postgresql_where=OPEN_NUMBERED, sqlite_where=OPEN_NUMBERED),
        Index("ix_crm_tickets_received", "requested_at", "agency_id", "service_type_id",
              "channel", "id", postgresql_where=NUMBERED, sqlite_where=NUMBERED),
        Index("ix_crm_tickets_closed", "closed_at", "agency_id", "service_type_id", "due_at",
              postgresql_where=CLOSED, sqlite_where=CLOSED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True, default=None)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("crm_service_types.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("crm_agencies.id"))
    state: Mapped[str] = mapped_column(String(16), default="new")
    wire_status: Mapped[str] = mapped_column(String(6), default="open")  # open | closed
    closure_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    resolution: Mapped[str | None] = mapped_column(Text, default=None)
    status_notes: Mapped[str | None] = mapped_column(Text, default=None)
    assignee: Mapped[str | None] = mapped_column(String(64), default=None)
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    language: Mapped[str] = mapped_column(String(8), default="en")  # the resident's: en | es
    description: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(255), default=None)
    address_id: Mapped[str | None] = mapped_column(String(64), default=None)
    zipcode: Mapped[str | None] = mapped_column(String(16), default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    long: Mapped[float | None] = mapped_column(Float, default=None)
    media_url: Mapped[str | None] = mapped_column(String(512), default=None)
    # caller contact and notification preferences (personal data: never exported)
    first_name: Mapped[str | None] = mapped_column(String(64), default=None)
    last_name: Mapped[str | None] = mapped_column(String(64), default=None)
    email: Mapped[str | None] = mapped_column(String(255), default=None)
    phone: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    notify_email: Mapped[bool] = mapped_column(default=True)
    notify_sms: Mapped[bool] = mapped_column(default=False)
    account_id: Mapped[str | None] = mapped_column(String(64), default=None)
    device_id: Mapped[str | None] = mapped_column(String(64), default=None)
    call_uniqueid: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    source_client: Mapped[str | None] = mapped_column(String(64), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    created_by: Mapped[str | None] = mapped_column(String(64), default=None)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("crm_tickets.id"), default=None,
                                                  index=True)
    link_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    hold_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    sla_stage: Mapped[int] = mapped_column(default=0)
    sla_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None,
                                                               index=True)
    escalation_level: Mapped[int] = mapped_column(default=0)
    reopen_count: Mapped[int] = mapped_column(default=0)

    service_type: Mapped[ServiceType] = relationship()
    agency: Mapped[Agency] = relationship()
    parent: Mapped[Ticket | None] = relationship(remote_side=[id])
    districts: Mapped[list[TicketDistrict]] = relationship(
        cascade="all, delete-orphan", order_by="TicketDistrict.layer")


class TicketDistrict(Base):
    """A district the ticket's place lies in, one per layer (council district, ward, zone);
    the codes are the ones ``civic311 gis import`` loaded (``places``)."""

    __tablename__ = "crm_ticket_districts"
    __table_args__ = (Index("ix_crm_ticket_districts_layer_code", "layer", "code"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("crm_tickets.id", ondelete="CASCADE"),
                                           primary_key=True)
    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128), default="")


class TicketEvent(Base):
    """The activity log: created, routed, transferred, escalated, linked, commented, closed..."""

    __tablename__ = "crm_ticket_events"
    __table_args__ = (Index("ix_crm_ticket_events_kind_at", "kind", "at", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("crm_tickets.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    text: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(default=True)


class TicketDayTally(Base):
    """Requests received and closed on one city day, per agency, type and channel: the
    reports' whole days (crm_bridge/tickets/tallies.py keeps them; a day is rewritten whole
    when one of its tickets changes)."""

    __tablename__ = "crm_ticket_day_tallies"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("crm_agencies.id"), primary_key=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("crm_service_types.id"),
                                                 primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    received: Mapped[int] = mapped_column(default=0)
    closed: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)


class TicketDistrictTally(Base):
    """Requests received on one city day per agency and district of each layer."""

    __tablename__ = "crm_ticket_district_tallies"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("crm_agencies.id"), primary_key=True)
    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    received: Mapped[int] = mapped_column(default=0)


class CityDistrictTally(Base):
    """Requests received on one city day per district of each layer, every agency's: what a
    report for the whole city reads (one row where the agencies' tallies have one each)."""

    __tablename__ = "crm_city_district_tallies"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    received: Mapped[int] = mapped_column(default=0)


class TallyState(Base):
    """How far the tallies go: the city zone their days are in, and the run that last
    brought them up to date (its days before that run's day are whole)."""

    __tablename__ = "crm_tally_state"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    zone: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BacklogMember(Base):
    """An open ticket as the backlog's last count saw it (crm_bridge/tickets/backlog.py):
    the read takes off what a ticket that changed since then was, and adds what it is."""

    __tablename__ = "crm_backlog_members"
    __table_args__ = (Index("ix_crm_backlog_members_due", "due_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("crm_tickets.id", ondelete="CASCADE"),
                                           primary_key=True)
    agency_id: Mapped[int] = mapped_column()
    service_type_id: Mapped[int] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class BacklogCount(Base):
    """Open tickets per agency, type and ageing band at the backlog's last count."""

    __tablename__ = "crm_backlog_counts"

    agency_id: Mapped[int] = mapped_column(primary_key=True)
    service_type_id: Mapped[int] = mapped_column(primary_key=True)
    band: Mapped[int] = mapped_column(primary_key=True)  # index in backlog.BANDS
    n: Mapped[int] = mapped_column()


class BacklogState(Base):
    """The instant of the backlog's last count (its members and counts are as of then)."""

    __tablename__ = "crm_backlog_state"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Notification(Base):
    """One message to a resident or an escalation contact; sent by the worker, retried."""

    __tablename__ = "crm_notifications"
    __table_args__ = (Index("ix_crm_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("crm_tickets.id", ondelete="CASCADE"),
                                                  index=True, default=None)
    kind: Mapped[str] = mapped_column(String(24))  # created, status, closed, warning, escalation...
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class OutboxItem(Base):
    """A ticket to deliver to an agency's external system (FixMyStreet-style send state)."""

    __tablename__ = "crm_outbox"
    __table_args__ = (Index("ix_crm_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("crm_tickets.id", ondelete="CASCADE"),
                                           index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("crm_agencies.id"))
    destination: Mapped[str] = mapped_column(String(16))  # open311 | email
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    remote_id: Mapped[str | None] = mapped_column(String(128), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class RemoteCursor(Base):
    """How far the remote's updates have been pulled (``updated_after`` polling)."""

    __tablename__ = "crm_remote_cursors"

    agency_id: Mapped[int] = mapped_column(ForeignKey("crm_agencies.id"), primary_key=True)
    updated_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class RemoteUpdate(Base):
    """One change a remote reported on a ticket we sent it, waiting to be applied here.

    Polling stores these and moves the cursor on; applying them is a claim/retry loop like the
    outbox's, so an update that cannot be applied (yet) is retried, then ``failed``, and never
    holds back the others or the cursor."""

    __tablename__ = "crm_remote_updates"
    __table_args__ = (Index("ix_crm_remote_updates_due", "status", "next_attempt_at"),
                      UniqueConstraint("agency_id", "remote_id", "remote_updated",
                                       name="uq_crm_remote_updates_change"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("crm_agencies.id"))
    remote_id: Mapped[str] = mapped_column(String(128))
    remote_updated: Mapped[str] = mapped_column(String(64))  # as the remote wrote it
    remote_status: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending|applied|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    """An Open311 client's key, stored as a SHA-256 hash (keys are 256-bit random)."""

    __tablename__ = "crm_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
