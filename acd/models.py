"""acd's SQLAlchemy models: call records, ring attempts, agent spans and commands, live state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from acd.states import CallOutcome, CommandKind
from foundation.db import Base, UTCDateTime
from foundation.settings import DEFAULT_NODE

OUTCOMES = tuple(CallOutcome)
# ivr_path of a callback's placeholder (ivr/callback_runner.py): the resident's call carried
# on, not a new one; the original call was offered once and ended as ``callback``.
CALLBACK_PATH_PREFIX = "callback:"


class CallRecord(Base):
    """One queued (or refused-at-join) call. ``outcome`` is NULL while the call is live.

    A caller transferred into a queue keeps their channel (its uniqueid) and is a new
    queued call there (QueueMetrics' rule): each entry is its own record, ``leg`` 1, 2...
    of the uniqueid. A transferred leg ends at the transfer (``transfer_*``, hang-up side
    ``transfer``) with the talk time up to it.
    """

    __tablename__ = "call_records"
    __table_args__ = (
        UniqueConstraint("uniqueid", "leg", name="uq_call_records_uniqueid_leg"),
        Index("ix_call_records_entered", "entered_at"),
        Index("ix_call_records_queue_entered", "queue", "entered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64))
    leg: Mapped[int] = mapped_column(default=1, server_default="1")  # the uniqueid's nth entry
    linkedid: Mapped[str | None] = mapped_column(String(64), default=None)
    channel: Mapped[str | None] = mapped_column(String(128), default=None)
    caller_number: Mapped[str | None] = mapped_column(String(64), default=None)
    caller_name: Mapped[str | None] = mapped_column(String(128), default=None)
    queue: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    position: Mapped[int | None] = mapped_column(default=None)
    ivr_path: Mapped[str | None] = mapped_column(String(255), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    wait_s: Mapped[float | None] = mapped_column(default=None)
    talk_s: Mapped[float | None] = mapped_column(default=None)
    hold_s: Mapped[float | None] = mapped_column(default=0.0)  # None: not measured
    acw_s: Mapped[float] = mapped_column(default=0.0)
    agent: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    exit_key: Mapped[str | None] = mapped_column(String(4), default=None)
    transfer_target: Mapped[str | None] = mapped_column(String(128), default=None)
    transfer_kind: Mapped[str | None] = mapped_column(String(16), default=None)  # TransferKind
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    hangup_side: Mapped[str | None] = mapped_column(String(8), default=None)
    call_type: Mapped[str | None] = mapped_column(String(32), default=None)
    ticket_number: Mapped[str | None] = mapped_column(String(32), default=None)
    source: Mapped[str] = mapped_column(String(16), default="ami")
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    # the telephony node (Settings.node) whose Asterisk carried the call
    node: Mapped[str] = mapped_column(String(16), default=DEFAULT_NODE,
                                      server_default=DEFAULT_NODE)

    rings: Mapped[list[RingAttempt]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="RingAttempt.id"
    )


class RingAttempt(Base):
    """An agent phone rang for a queued call: who, how long (ms), and how it ended."""

    __tablename__ = "ring_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call_records.id", ondelete="CASCADE"),
                                         index=True)
    agent: Mapped[str] = mapped_column(String(64))
    ring_ms: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(String(16))  # connected | noanswer
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    call: Mapped[CallRecord] = relationship(back_populates="rings")


class LogCursor(Base):
    """How far reconciliation has read a log file (by inode and byte offset).

    One per node and file: the default node's are named ``queue_log`` and ``cdr``, another
    node's ``<node>:queue_log`` (``acd.reconcile.cursor_name``).
    """

    __tablename__ = "log_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    node: Mapped[str] = mapped_column(String(16), default=DEFAULT_NODE,
                                      server_default=DEFAULT_NODE)
    inode: Mapped[int] = mapped_column(default=0)
    offset: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AgentStateSpan(Base):
    """One stretch of an agent in one state on one node; ``ended_at`` is NULL for the
    current one (at most one open per agent and node)."""

    __tablename__ = "agent_state_spans"
    __table_args__ = (Index("ix_agent_state_spans_agent_started", "agent", "started_at"),
                      Index("ix_agent_state_spans_started", "started_at"),
                      Index("ix_agent_state_spans_ended", "ended_at"),
                      # each agent's open span, found without walking their history
                      Index("ix_agent_state_spans_open", "agent",
                            postgresql_where=text("ended_at IS NULL"),
                            sqlite_where=text("ended_at IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # the node whose daemon saw this state (Settings.node): with agents shared by several
    # nodes each keeps its own spans, the readers merge them (``acd.span_merge``)
    node: Mapped[str] = mapped_column(String(16), default=DEFAULT_NODE,
                                      server_default=DEFAULT_NODE)


COMMAND_ACTIONS = tuple(CommandKind)


class AgentCommand(Base):
    """A queue action asked for on the web, carried out by the daemon through AMI.

    ``status``: pending -> done | failed (``detail`` says why). The web never talks to AMI.
    """

    __tablename__ = "agent_commands"
    __table_args__ = (Index("ix_agent_commands_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64), default=None)  # None: all queues
    target: Mapped[str] = mapped_column(String(128), default="", server_default="")  # transfers
    reason: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class LiveState(Base):
    """The daemon's live picture (queues, waiting callers, agents) as one JSON document.

    ``version`` grows with every change, so web processes poll one integer and fan the
    document out to their server-sent-event streams.
    """

    __tablename__ = "live_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    # the node whose board this is (``acd.live_store.board_name``); None: a row of the
    # whole center (rollup coverage, folded counters)
    node: Mapped[str | None] = mapped_column(String(16), default=None)
    version: Mapped[int] = mapped_column(default=0)
    doc: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntervalStat(Base):
    """Additive totals of the calls that entered ``queue`` in one 15-minute interval."""

    __tablename__ = "interval_stats"

    interval_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    offered: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    abandoned: Mapped[int] = mapped_column(default=0)
    short_abandoned: Mapped[int] = mapped_column(default=0)
    timed_out: Mapped[int] = mapped_column(default=0)
    exit_key: Mapped[int] = mapped_column(default=0)
    exit_empty: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    callback: Mapped[int] = mapped_column(default=0)
    dropped: Mapped[int] = mapped_column(default=0)
    answered_within: Mapped[str] = mapped_column(Text, default="{}")  # {"30": n, "60": n}
    total_wait_answered_s: Mapped[float] = mapped_column(default=0.0)
    total_handle_s: Mapped[float] = mapped_column(default=0.0)
    longest_wait_s: Mapped[float] = mapped_column(default=0.0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DayStat(Base):
    """Additive totals of the calls that entered ``queue`` in one city day, [day_start,
    day_end) in UTC (23 or 25 hours across a DST change): the exact sum of that day's
    ``interval_stats`` rows, rebuilt with them (``acd.day_stats``). ``answered_within``
    holds the answer times every one of those intervals holds."""

    __tablename__ = "day_stats"

    day_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    day_end: Mapped[datetime] = mapped_column(UTCDateTime())
    offered: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    abandoned: Mapped[int] = mapped_column(default=0)
    short_abandoned: Mapped[int] = mapped_column(default=0)
    timed_out: Mapped[int] = mapped_column(default=0)
    exit_key: Mapped[int] = mapped_column(default=0)
    exit_empty: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    callback: Mapped[int] = mapped_column(default=0)
    dropped: Mapped[int] = mapped_column(default=0)
    answered_within: Mapped[str] = mapped_column(Text, default="{}")  # {"30": n, "60": n}
    total_wait_answered_s: Mapped[float] = mapped_column(default=0.0)
    total_handle_s: Mapped[float] = mapped_column(default=0.0)
    longest_wait_s: Mapped[float] = mapped_column(default=0.0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentStateTime(Base):
    """Seconds ``agent`` spent in ``state`` (with its pause ``reason``; "" otherwise) within
    one interval: 15 minutes, a whole city day (``minutes`` 1440, 23 or 25 hours across
    DST, in the zone of the agent rollups' coverage; always the sum of that day's 15-minute
    rows), or a block of 2-32 such days (``minutes`` 1440 x its days: ``acd.day_blocks``),
    so a month's agent time is a few rows per agent and state whatever the number of spans
    (``acd.agent_time``)."""

    __tablename__ = "agent_state_intervals"

    minutes: Mapped[int] = mapped_column(primary_key=True)  # 15, 1440 or 1440 x 2-32
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    seconds: Mapped[float] = mapped_column(default=0.0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentCallDay(Base):
    """Calls ``agent`` answered in ``queue`` among those that entered within one city day
    (``day``: its start, in the zone of the agent rollups' coverage), so
    a month's calls per agent (occupancy's other half) are a few rows per agent and queue
    whatever the number of records (``acd.agent_calls``)."""

    __tablename__ = "agent_call_days"

    day: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    answered: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentCallBlock(Base):
    """The sum of ``agent_call_days`` over a block of ``days`` whole city days from ``day``
    (2, 4, 8, 16 or 32, aligned: ``acd.day_blocks``)."""

    __tablename__ = "agent_call_blocks"

    days: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    answered: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


def table(model: type[Base]) -> Table:
    """A model's Core table, typed (for executemany statements)."""
    return model.__table__  # type: ignore[return-value]


class ReferralEntry(Base):
    """A number agents refer callers to (911, 211, a state agency), added by an admin; the
    agencies' public numbers come from the service catalog beside these (acd.referrals)."""

    __tablename__ = "referral_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    number: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
