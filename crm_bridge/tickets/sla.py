"""SLA escalation job and the on-time closure report.

Each open ticket carries ``sla_next_check_at``: the instant its SLA clock reaches the next
stage (75% warning, 100% breach, then every further 50%). The job only reads tickets whose
check is due, so it stays cheap at a million tickets, and it is idempotent: a stage is
acted on once, when ``sla_stage`` moves past it.

Each ticket is checked in a transaction of its own. A ticket whose check fails (a service type
whose SLA no longer reads, say) gets an internal ``sla_check_failed`` entry with the error and
its next check backed off; after ``CHECK_MAX`` failures its checks stop, and say so. The
other tickets are warned and escalated all the same.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.models import Ticket, TicketEvent
from crm_bridge.notify import notices
from crm_bridge.tickets import tallies
from crm_bridge.tickets.business_calendar import next_check_at, stage_for
from crm_bridge.tickets.records import escalate, log, policy
from crm_bridge.tickets.reports import names
from foundation import retry
from foundation.db import Database, utcnow

logger = logging.getLogger(__name__)
CHECK_MAX = 5
FAILED = "sla_check_failed"


def check_ticket(session: Session, t: Ticket, now: datetime, cfg: CrmConfig) -> list[str]:
    """Act on every stage the ticket has reached since the last check; returns what was done."""
    if t.due_at is None or t.state in ("closed", "on_hold"):
        t.sla_next_check_at = None
        return []
    pol = policy(t.service_type)
    fraction = cfg.calendar.fraction_used(pol, t.due_at, now)
    reached = stage_for(fraction)
    done = []
    for stage in range(t.sla_stage + 1, reached + 1):
        if stage == 1:
            who = notices.to_oversight(session, t, "warning", 1, cfg, percent=75, now=now)
            log(session, t, "sla_warning", "system",
                f"75% of the SLA used; warned {who or 'nobody (no contact on file)'}",
                public=False, now=now)
            done.append("warning")
        else:
            escalate(session, t, stage, "SLA breached" if stage == 2 else
                     f"SLA exceeded by {50 * (stage - 2)}%", "system", now=now, config=cfg)
            done.append(f"escalation{stage}")
    t.sla_stage = max(t.sla_stage, reached)
    t.sla_next_check_at = next_check_at(cfg.calendar, pol, t.due_at, t.sla_stage)
    return done


def run_sla_checks(db: Database, cfg: CrmConfig, now: datetime | None = None,
                   batch: int = 500) -> int:
    """Worker job: warn and escalate every ticket whose next SLA check is due."""
    now = now or utcnow()
    with db.session() as s:
        due = list(s.scalars(select(Ticket.id).where(Ticket.sla_next_check_at <= now)
                             .order_by(Ticket.sla_next_check_at).limit(batch)))
    acted = 0
    for ticket_id in due:
        outcome = retry.attempt(partial(_check_one, db, ticket_id, now, cfg), (),
                                retry.as_text)
        if outcome.ok:
            acted += outcome.value or 0
        else:
            _failed(db, ticket_id, outcome.error or "", now)
    return acted


def _check_one(db: Database, ticket_id: int, now: datetime, cfg: CrmConfig) -> int:
    with db.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.id == ticket_id, Ticket.sla_next_check_at <= now)
                     .with_for_update(skip_locked=True))
        return len(check_ticket(s, t, now, cfg)) if t is not None else 0


def _failed(db: Database, ticket_id: int, error: str, now: datetime) -> None:
    """Record a failed check on the ticket; back off, and stop after CHECK_MAX failures."""
    logger.warning("SLA check of ticket %s failed: %s", ticket_id, error)
    with db.session() as s:
        t = s.get(Ticket, ticket_id)
        if t is None:
            return
        failures = 1 + (s.scalar(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == FAILED)) or 0)
        if retry.exhausted(failures, CHECK_MAX):
            t.sla_next_check_at = None
            error += f" (failed {failures} times: SLA checks stopped for this ticket)"
        else:
            t.sla_next_check_at = retry.DEFAULT.next_attempt(failures, now)
        log(s, t, FAILED, "system", f"SLA check failed: {error}"[:retry.ERROR_CHARS],
            public=False, now=now)


def on_time_report(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Closed in [start, end): count and on-time share per agency and service type."""
    per_type: dict[tuple[int, int], tuple[int, int]] = {}
    for (agency_id, type_id, _), (n, ok) in tallies.closed(session, start, end, None).items():
        was = per_type.get((agency_id, type_id), (0, 0))
        per_type[(agency_id, type_id)] = (was[0] + n, was[1] + ok)
    agencies, types = names(session)
    out = []
    for (agency_id, type_id), (closed, ontime) in per_type.items():
        (acode, aname), (scode, sname) = agencies[agency_id], types[type_id]
        out.append({"agency": acode, "agency_name": aname, "service_code": scode,
                    "service_name": sname, "closed": closed, "on_time": ontime,
                    "on_time_rate": round(ontime / closed, 4) if closed else None})
    return sorted(out, key=lambda r: (r["agency"], r["service_code"]))


def totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Roll the per-type rows up per agency."""
    agg: dict[str, dict[str, Any]] = {}
    for r in rows:
        a = agg.setdefault(r["agency"], {"agency_name": r["agency_name"], "closed": 0,
                                         "on_time": 0})
        a["closed"] += r["closed"]
        a["on_time"] += r["on_time"]
    for a in agg.values():
        a["on_time_rate"] = round(a["on_time"] / a["closed"], 4) if a["closed"] else None
    return agg
