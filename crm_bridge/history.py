"""A city's past service requests, made up through the ticket service (so every rule holds:
closed tickets carry a reason and a resolution, reopens stay in the window, escalations
follow the SLA clock): tickets in every state across the agencies — new, acknowledged,
assigned, in progress, on hold, overdue and escalated, reopened, closed on time and late.

Phone tickets are opened on answered "service request" calls of the generated call history
(their uniqueids are passed in). Idempotent by marker: the tickets carry
``source_client = "history"``; when any exist nothing is written again. The notices the
past would have sent (escalation e-mails) are stored as sent at the time they were made, so
the worker does not mail them today.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.models import Notification, ServiceType, TallyState, Ticket
from crm_bridge.tickets import backlog, routing, service, sla
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.lifecycle import Action, ClosureReason, State
from places.public import Match, addresses

SOURCE = "history"
CHANNELS = (("web", 20), ("open311", 8), ("sms", 4), ("email", 3), ("walk-in", 1),
            ("letter", 1))  # besides phone calls
STREETS = ("Main St", "Oak Ave", "Elm St", "Broadway", "Park Pl", "5th Ave", "River Rd",
           "Church St", "Maple Ave", "Union St", "Lincoln Blvd", "Grand St")
RESOLUTIONS = {
    ClosureReason.RESOLVED: ("Crew completed the work on site.", "Repaired and inspected.",
                             "Inspector visited; the condition was corrected.",
                             "Service completed; photo on file."),
    ClosureReason.NO_ACTION_NEEDED: ("Inspected: no condition found at the location.",),
    ClosureReason.REFERRED: ("Referred to the utility company, which owns the asset.",),
    ClosureReason.NOT_JURISDICTION: ("Private property: the owner was notified by letter.",),
    ClosureReason.UNABLE_TO_RESOLVE: ("Could not gain access after three attempts.",),
}
REASONS = ((ClosureReason.RESOLVED, 80), (ClosureReason.NO_ACTION_NEEDED, 8),
           (ClosureReason.REFERRED, 5), (ClosureReason.NOT_JURISDICTION, 4),
           (ClosureReason.UNABLE_TO_RESOLVE, 3))
# the newest tickets take every state once, so even a short history shows them all
EVERY_STATE = (State.NEW, State.ACKNOWLEDGED, State.ASSIGNED, State.IN_PROGRESS,
               State.ON_HOLD, State.REOPENED, State.CLOSED)

# Where requests are placed: at the city's address points when ``civic311 gis import`` (or
# the demo seed) loaded some, so each request has a real address and its districts; else
# scattered over this box (south, west, north, east).
NO_PLACES_BOX = (40.70, -74.01, 40.82, -73.89)
# where requests of a type bunch (a bad corner, a noisy bar, a leaking main): half of the
# requests of a type fall within a block or so of one of its two spots, as a city's do
HOT_SPOT_SPREAD = 0.12  # the bunch's standard deviation, as a fraction of the area's span


def _spread(points: Sequence[Match]) -> tuple[float, float, float, float]:
    if not points:
        return NO_PLACES_BOX
    lats, longs = [p.lat for p in points], [p.long for p in points]
    return min(lats), min(longs), max(lats), max(longs)


def _placed(draft: TicketDraft, points: Sequence[Match], rng: random.Random) -> TicketDraft:
    """A request at a random address point, or at a random spot of the box without any."""
    south, west, north, east = NO_PLACES_BOX
    u, v = rng.random(), rng.random()
    if not points:
        return replace(draft, lat=round(south + u * (north - south), 5),
                       long=round(west + v * (east - west), 5))
    p = points[int(u * len(points))]
    return replace(draft, address=p.text, address_id=p.address_id, lat=p.lat, long=p.long)


def _near_a_hot_spot(draft: TicketDraft, code: str, k: int, points: Sequence[Match],
                     area: tuple[float, float, float, float]) -> TicketDraft:
    """Move about half the drafts next to one of their type's two hot spots (its own random
    stream, keyed by type and index: the history's other draws stay as they were)."""
    r = random.Random(f"{code}:{k}")
    if r.random() >= 0.5:
        return draft
    south, west, north, east = area
    h = sum(map(ord, code))
    spots = [(south + (north - south) * ((h * f) % 97) / 97,
              west + (east - west) * ((h * f * 7) % 89) / 89) for f in (3, 11)]
    lat, long = spots[r.random() < 0.3]
    lat = round(r.gauss(lat, (north - south) * HOT_SPOT_SPREAD), 5)
    long = round(r.gauss(long, (east - west) * HOT_SPOT_SPREAD), 5)
    near = min(points, key=lambda p: (p.lat - lat) ** 2 + (p.long - long) ** 2, default=None)
    if near is None:
        return replace(draft, lat=lat, long=long)
    return replace(draft, address=near.text, address_id=near.address_id, lat=near.lat,
                   long=near.long)


def present(session: Session) -> int:
    """How many generated tickets are stored."""
    return session.scalar(select(func.count()).select_from(Ticket)
                          .where(Ticket.source_client == SOURCE)) or 0


def _answers(defs: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in defs:
        if not d.get("variable", True):
            continue
        kind, values = d["datatype"], [v["key"] for v in d.get("values") or []]
        if kind == "singlevaluelist":
            out[d["code"]] = rng.choice(values)
        elif kind == "multivaluelist":
            out[d["code"]] = [rng.choice(values)]
        elif kind == "number":
            out[d["code"]] = str(rng.randint(1, 5))
        elif d.get("required"):
            out[d["code"]] = "As described by the resident"
    return out


def _fate(rng: random.Random, age: timedelta, sla_span: timedelta) -> State:
    weights: tuple[tuple[State, int], ...]
    if age > sla_span:  # its SLA has run out: mostly closed by now, some left overdue
        weights = ((State.CLOSED, 86), (State.IN_PROGRESS, 4), (State.ON_HOLD, 3),
                   (State.REOPENED, 4), (State.ASSIGNED, 2), (State.ACKNOWLEDGED, 1))
    else:
        weights = ((State.CLOSED, 40), (State.NEW, 14), (State.ACKNOWLEDGED, 14),
                   (State.ASSIGNED, 10), (State.IN_PROGRESS, 15), (State.ON_HOLD, 5),
                   (State.REOPENED, 2))
    return rng.choices([st for st, _ in weights], [w for _, w in weights])[0]


def generate(session: Session, cfg: CrmConfig, start: datetime, end: datetime,
             phone_calls: Sequence[tuple[str, datetime]], per_day: float,
             seed: int = 311, now: datetime | None = None) -> dict[str, str]:
    """Open and work tickets requested in [start, end) (``per_day`` a day on average, about
    half of them on the given (uniqueid, ended_at) calls), their SLA clocks run up to
    ``now`` (default ``end``); returns uniqueid -> ticket number of the calls that got one.
    Nothing when generated tickets exist already."""
    if present(session):
        return {}
    rng = random.Random(seed)
    types = list(session.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                                 .order_by(ServiceType.code)))
    if not types:
        return {}
    points = addresses(session)
    area = _spread(points)  # once: the city's extent, where the hot spots lie
    days = max(1.0, (end - start).total_seconds() / 86400)
    total = max(len(EVERY_STATE), round(per_day * days))
    calls = sorted(rng.sample(list(phone_calls), min(len(phone_calls), total // 2)),
                   key=lambda c: c[1])
    others = [(None, start + (end - start) * rng.random()) for _ in range(total - len(calls))]
    plan = sorted([*calls, *others], key=lambda c: c[1])
    channels, cw = [c for c, _ in CHANNELS], [w for _, w in CHANNELS]
    linked: dict[str, str] = {}
    for k, (uid, at) in enumerate(plan):
        st = rng.choice(types)
        draft = TicketDraft(
            service_code=st.code, channel="phone" if uid else rng.choices(channels, cw)[0],
            actor="agent" if uid else "resident", attributes=_answers(st.attributes or [], rng),
            description=f"{st.name}: reported by a resident.", call_uniqueid=uid,
            address=f"{rng.randint(1, 999)} {rng.choice(STREETS)}", source_client=SOURCE)
        draft = _near_a_hot_spot(_placed(draft, points, rng), st.code, k, points, area)
        t = service.open_ticket(session, draft, now=at, config=cfg)
        if uid and t.number:
            linked[uid] = t.number
        assert t.due_at is not None
        forced = len(plan) - k - 1
        fate = EVERY_STATE[forced] if forced < len(EVERY_STATE) else \
            _fate(rng, end - at, t.due_at - at)
        _work(session, t, fate, at, end, rng, cfg)
    _settle(session, max(end, now or end), cfg)
    # these tickets were written with their own past times, which the look-back of the
    # tallies and of the backlog's count would not see: both count again at their next run
    session.execute(delete(TallyState))
    backlog.reset(session)
    return linked


def _work(session: Session, t: Ticket, fate: State, at: datetime, end: datetime,
          rng: random.Random, cfg: CrmConfig) -> None:
    """Move a new ticket along the lifecycle to ``fate``, each step dated before ``end``."""
    if fate is State.NEW:
        return
    assert t.due_at is not None
    room = end - at
    sla_span = max(t.due_at - at, timedelta(hours=4))
    close_after = min(sla_span * rng.uniform(0.15, 1.3), room * 0.8)
    steps = [at + close_after * f for f in (0.05, 0.15, 0.3)]
    worker = f"{t.agency.code.lower()}-crew-{rng.randint(1, 4)}"
    actor = f"{t.agency.code.lower()}-dispatch"
    service.act(session, t, Action.ACKNOWLEDGE, actor, now=steps[0], config=cfg)
    if fate is State.ACKNOWLEDGED:
        return
    if rng.random() < 0.03 and fate is not State.CLOSED:
        other = rng.choice([a for a in ("DOT", "DSNY", "DEP") if a != t.agency.code])
        routing.transfer(session, t, other, actor, "Not ours: the asset belongs to "
                         f"{other}", now=steps[0] + (steps[1] - steps[0]) / 2, config=cfg)
        service.act(session, t, Action.ACKNOWLEDGE, actor, now=steps[1], config=cfg)
    service.act(session, t, Action.ASSIGN, actor, assignee=worker, now=steps[1], config=cfg)
    if fate is State.ASSIGNED:
        return
    service.act(session, t, Action.START, worker, now=steps[2], config=cfg)
    if fate is State.IN_PROGRESS:
        return
    if fate is State.ON_HOLD:
        service.act(session, t, Action.HOLD, worker, comment="Waiting for a part",
                    now=at + close_after * 0.5, config=cfg)
        return
    reason = rng.choices([r for r, _ in REASONS], [w for _, w in REASONS])[0]
    closed_at = at + close_after
    service.close(session, t, worker, reason.value, rng.choice(RESOLUTIONS[reason]),
                  now=closed_at, config=cfg)
    if fate is State.REOPENED:
        window = min(timedelta(days=cfg.reopen_window_days) * 0.9, (end - closed_at) * 0.9)
        service.reopen_by_resident(session, t.number or "", "The work was not done.",
                                   now=closed_at + window * rng.uniform(0.2, 1.0), config=cfg)


def _settle(session: Session, end: datetime, cfg: CrmConfig) -> None:
    """Run the SLA clock up to ``end`` (warnings, escalations of the overdue), and mark what
    the past would have mailed as sent when it was made (so the worker's first run does not
    mail a burst of old escalations)."""
    session.flush()
    for t in session.scalars(select(Ticket).where(Ticket.source_client == SOURCE,
                                                  Ticket.sla_next_check_at <= end)):
        sla.check_ticket(session, t, end, cfg)
    session.flush()
    ids = select(Ticket.id).where(Ticket.source_client == SOURCE)
    session.execute(update(Notification).where(Notification.ticket_id.in_(ids),
                                               Notification.status == "pending")
                    .values(status="sent", sent_at=Notification.created_at, attempts=1))
