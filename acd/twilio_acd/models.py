"""Tables of the Twilio ACD: callers waiting (entries), agents' availability, REST outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime


class TwilioAgent(Base):
    """An agent as the Twilio ACD sees them. ``queues`` is JSON ``{queue: [paused, reason]}``;
    ``offer_entry`` the caller their device is being offered (ringing), ``on_call`` the
    uniqueid they talk to; ``consult_entry`` the entry whose attended transfer consults them
    (ringing until they answer, then on that call: ``consulted``); ``idle_since`` orders the
    longest-idle first."""

    __tablename__ = "twilio_agents"

    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    device: Mapped[str] = mapped_column(String(64), default="")  # "" = the SDK, else +E.164
    queues: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(16), default="logged_out")
    reason: Mapped[str] = mapped_column(String(64), default="")
    offer_entry: Mapped[int | None] = mapped_column(default=None)
    on_call: Mapped[str | None] = mapped_column(String(64), default=None)
    wrapup_call: Mapped[str | None] = mapped_column(String(64), default=None)
    wrapup_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    wrapup_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    consult_entry: Mapped[int | None] = mapped_column(default=None)


class TwilioEntry(Base):
    """A caller's entry into a Twilio queue, by CallSid (= the call record's uniqueid); a
    transfer into a queue is a new entry of the same CallSid (the record's next leg).

    ``state``: waiting -> offered (dequeued to an agent's device, ringing) -> connected ->
    done, or waiting -> leaving (timeout, exit key, empty: ``<Leave>`` sent) -> done; a
    ring-no-answer puts it back to waiting with the agent in ``tried``.

    A connected call's hold and consult (``conference``): ``agent_leg`` the agent's call
    (the Dial's child); ``room_state`` "" (bridged by the Dial), moving (the agent's leg was
    sent to the room), ready (the caller joined it); ``hold_wanted`` what the agent asked,
    ``held_since`` Twilio's participant-hold (the open hold the record counts), ``hold_seq``
    the SequenceNumber of the last hold or unhold applied, ``unheld_at`` an unhold that came
    before its hold (Twilio's callbacks may cross); ``consult``
    the attended transfer's target (``acd.transfer`` names), ``consult_state`` "" | asked
    (the room is not ready yet) | ringing | talking | cancelled (asked before the target
    answered: removed when it joins), ``consult_leg`` the target's call; ``room_ended_at``
    the room's conference-end (its recording's callback follows)."""

    __tablename__ = "twilio_entries"
    __table_args__ = (Index("ix_twilio_entries_state", "state", "queue", "entered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(64))
    queue_sid: Mapped[str | None] = mapped_column(String(64), default=None)
    caller_number: Mapped[str | None] = mapped_column(String(64), default=None)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # where their place in line counts from: a called-back resident's original arrival
    place_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    position: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    agent: Mapped[str | None] = mapped_column(String(64), default=None)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    leave_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    leave_key: Mapped[str | None] = mapped_column(String(4), default=None)
    tried: Mapped[str] = mapped_column(Text, default="")  # agents who let it ring, a,b,c
    offers: Mapped[int] = mapped_column(default=0)  # offer number: older callbacks are stale
    announced: Mapped[bool] = mapped_column(default=False)  # position and wait said once
    agent_leg: Mapped[str | None] = mapped_column(String(64), default=None)
    room_state: Mapped[str] = mapped_column(String(16), default="", server_default="")
    conference_sid: Mapped[str | None] = mapped_column(String(64), default=None)
    hold_wanted: Mapped[bool] = mapped_column(default=False, server_default=false())
    held_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    hold_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    unheld_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    consult: Mapped[str | None] = mapped_column(String(128), default=None)
    consult_state: Mapped[str] = mapped_column(String(16), default="", server_default="")
    consult_leg: Mapped[str | None] = mapped_column(String(64), default=None)
    room_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TwilioRequest(Base):
    """A REST call to Twilio the ACD must make (outbox: claimed, retried with backoff).

    ``kind`` dequeue | redirect | room (a leg into a conference) | participant (a hold,
    a consult's call, a removal: ``method`` DELETE); ``entry_id`` + ``offer`` tie a
    dequeue to the offer it carries out (a request for a superseded offer is dropped,
    never sent)."""

    __tablename__ = "twilio_requests"
    __table_args__ = (Index("ix_twilio_requests_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[int | None] = mapped_column(default=None)
    offer: Mapped[int] = mapped_column(default=0)
    method: Mapped[str] = mapped_column(String(8), default="POST", server_default="POST")
    path: Mapped[str] = mapped_column(String(255))  # below /2010-04-01/Accounts/<sid>/
    form: Mapped[str] = mapped_column(Text, default="{}")  # JSON of the POST form
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
