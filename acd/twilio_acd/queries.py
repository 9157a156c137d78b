"""Reads and writes of the Twilio ACD over a Session: every change of a caller or an agent
happens here, as a conditional update from the state it expects (a duplicate or late
callback finds another state and changes nothing), and every call fact is applied as
``acd.events`` by the one recorder (``acd.recorder.apply_events``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from acd import live_store
from acd import twilio_events as tw
from acd.agents import Agent, Transition, WrapupEnded
from acd.models import AgentStateSpan, CallRecord
from acd.recorder import apply_events
from acd.states import AgentState, CallOutcome, CommandKind, TransferKind
from acd.twilio_acd import routing
from acd.twilio_acd.models import TwilioAgent, TwilioEntry, TwilioRequest

Move = Transition | WrapupEnded
NEVER = datetime.min.replace(tzinfo=UTC)
WAITING, OFFERED, CONNECTED, LEAVING, DONE = "waiting", "offered", "connected", "leaving", "done"


# ---- agents ---------------------------------------------------------------------------------

def _queues(row: TwilioAgent) -> dict[str, tuple[bool, str]]:
    return {q: (bool(p), str(r)) for q, (p, r) in json.loads(row.queues or "{}").items()}


def _pure(row: TwilioAgent) -> Agent:
    consulted = row.consult_entry is not None  # rung by a consult (``consulted``)
    return Agent(queues=_queues(row), ringing=row.offer_entry is not None or consulted,
                 on_call=row.on_call,
                 wrapup_call=row.wrapup_call, wrapup_since=row.wrapup_since,
                 wrapup_until=row.wrapup_until, state=row.state, reason=row.reason)


def agent_row(s: Session, agent: str) -> TwilioAgent:
    row = s.get(TwilioAgent, agent)
    if row is None:
        row = TwilioAgent(agent=agent, device="", queues="{}", state=AgentState.LOGGED_OUT,
                          reason="")
        s.add(row)
        s.flush()
    return row


def settle(s: Session, row: TwilioAgent, now: datetime, extra: list[Move] | None = None
           ) -> list[Move]:
    """Derive the agent's state after a change; write the spans (and after-call work) of any
    transition, as the daemon does for Asterisk's agents."""
    moves: list[Move] = list(extra or [])
    state, reason = routing.derive(_pure(row))
    if (state, reason) != (row.state, row.reason):
        if state == AgentState.AVAILABLE:
            row.idle_since = now
        row.state, row.reason = state, reason
        moves.append(Transition(row.agent, state, reason, now))
    s.flush()
    if moves:
        live_store.record_moves(s, moves)
    return moves


def carry_out(s: Session, action: str, agent: str, queue: str | None, reason: str,
              all_queues: list[str], now: datetime) -> str:
    """An agent command (the same rows and words as Asterisk's); raises CommandError."""
    row = agent_row(s, agent)
    queues = _queues(row)
    if action == CommandKind.LOGIN:
        if not queue:
            raise live_store.CommandError("log-in needs a queue")
        queues[queue] = (False, "")
        detail = f"logged in to {queue}"
    elif action == CommandKind.LOGOUT:
        gone = [q for q in ([queue] if queue else list(queues)) if q in queues]
        if not gone:
            raise live_store.CommandError(
                f"agent {agent} is not logged in to {queue or 'any queue'}")
        for q in gone:
            del queues[q]
        detail = f"logged out of {', '.join(gone)}"
    elif action in (CommandKind.PAUSE, CommandKind.UNPAUSE):
        paused = action == CommandKind.PAUSE
        targets = [queue] if queue else list(queues)
        if not [q for q in targets if q in queues]:
            raise live_store.CommandError(f"agent {agent} is not logged in")
        for q in targets:
            if q in queues:
                queues[q] = (paused, reason if paused else "")
        word = "paused" if paused else "unpaused"
        detail = f"{word}{' (' + reason + ')' if paused and reason else ''}"
    else:  # transfers: acd.twilio_acd.transfers
        raise live_store.CommandError(f"{action!r} is not an agent state command")
    row.queues = json.dumps(queues)
    settle(s, row, now)
    return detail


def end_wrapups(s: Session, now: datetime) -> int:
    """End the wrap-ups whose limit passed (after-call work stored on the call)."""
    rows = list(s.scalars(select(TwilioAgent).where(TwilioAgent.wrapup_until.is_not(None),
                                                    TwilioAgent.wrapup_until <= now)))
    for row in rows:
        _end_wrapup(s, row, now)
    return len(rows)


def _end_wrapup(s: Session, row: TwilioAgent, now: datetime) -> None:
    done: list[Move] = []
    if row.wrapup_call and row.wrapup_since and row.wrapup_until:
        acw = max(0.0, (min(now, row.wrapup_until) - row.wrapup_since).total_seconds())
        done.append(WrapupEnded(row.agent, row.wrapup_call, acw))
    row.wrapup_call = row.wrapup_since = row.wrapup_until = None
    settle(s, row, now, done)


def free_agents(s: Session) -> list[routing.Free]:
    out = []
    for row in s.scalars(select(TwilioAgent).where(TwilioAgent.state == AgentState.AVAILABLE)):
        queues = frozenset(q for q, (p, _) in _queues(row).items() if not p)
        out.append(routing.Free(row.agent, queues, row.idle_since or NEVER))
    return out


def staffing(s: Session, queue: str) -> tuple[int, int, int]:
    """(logged in, not paused, available now) agents of ``queue``."""
    rows = list(s.scalars(select(TwilioAgent)))
    logged, unpaused = routing.staffing(queue, [_queues(r) for r in rows])
    ready = sum(r.state == AgentState.AVAILABLE and queue in _queues(r)
                and not _queues(r)[queue][0] for r in rows)
    return logged, unpaused, ready


# ---- callers --------------------------------------------------------------------------------

def entry(s: Session, uniqueid: str) -> TwilioEntry | None:
    """The caller's latest queue entry (a transfer into a queue makes a newer one)."""
    return s.scalar(select(TwilioEntry).where(TwilioEntry.uniqueid == uniqueid)
                    .order_by(TwilioEntry.id.desc()).limit(1))


def place(e: TwilioEntry) -> datetime:
    """Where the caller's place in line counts from (a called-back resident: their first
    arrival, as the Asterisk placeholder keeps it)."""
    return e.place_at or e.entered_at


def ahead_of(s: Session, e: TwilioEntry) -> int:
    """Callers before ``e`` in its queue (waiting or ringing an agent), by place in line."""
    rows = s.scalars(select(TwilioEntry.id).where(
        TwilioEntry.queue == e.queue, TwilioEntry.state.in_((WAITING, OFFERED)),
        func.coalesce(TwilioEntry.place_at, TwilioEntry.entered_at) < place(e)))
    return len(list(rows))


def join(s: Session, uniqueid: str, queue: str, caller_number: str | None,
         ivr_path: str | None, now: datetime, place_at: datetime | None = None) -> int | None:
    """The caller enters ``queue``: their position, or None when refused (nobody to take
    it). A repeat (Twilio retried the request) returns the same answer, records nothing.
    ``place_at``: their place in line counts from then (a called-back resident)."""
    known = entry(s, uniqueid)
    if known is not None:
        return None if known.leave_reason == CallOutcome.REFUSED else known.position
    logged, unpaused, _ = staffing(s, queue)
    if routing.refuse_at_join(logged, unpaused):
        s.add(TwilioEntry(uniqueid=uniqueid, queue=queue, caller_number=caller_number,
                          entered_at=now, position=0, state=DONE,
                          leave_reason=CallOutcome.REFUSED))
        apply_events(s, [tw.refused(now, uniqueid, queue, caller_number, ivr_path)])
        return None
    row = TwilioEntry(uniqueid=uniqueid, queue=queue, caller_number=caller_number,
                      entered_at=now, place_at=place_at, state=WAITING)
    s.add(row)
    s.flush()
    row.position = ahead_of(s, row) + 1
    apply_events(s, tw.joined(now, uniqueid, queue, row.position, caller_number, ivr_path))
    return row.position


def note_queue_sid(s: Session, e: TwilioEntry, queue_sid: str) -> None:
    if queue_sid.startswith("QU") and e.queue_sid != queue_sid:
        e.queue_sid = queue_sid[:64]


def leave(s: Session, e: TwilioEntry, outcome: CallOutcome, key: str | None) -> bool:
    """Mark a waiting caller as leaving (the waitUrl answers ``<Leave>``); False if it is not
    waiting any more (an agent is ringing, or it already left)."""
    res = s.execute(update(TwilioEntry).where(TwilioEntry.id == e.id,
                                              TwilioEntry.state == WAITING)
                    .values(state=LEAVING, leave_reason=outcome, leave_key=key))
    return bool(res.rowcount)  # type: ignore[attr-defined]


def left_queue(s: Session, uniqueid: str, queue_result: str, now: datetime) -> TwilioEntry | None:
    """Twilio's Enqueue action: hung up (abandoned) or ``<Leave>`` (the reason we gave);
    a dequeue of ours (redirected, bridged) is not an end. Returns the entry if it ended."""
    e = entry(s, uniqueid)
    if e is None or e.state == DONE:
        return None
    wait_s = routing.whole_s(e.entered_at, now)
    if queue_result == "leave" and e.state == LEAVING:
        outcome = CallOutcome(e.leave_reason or CallOutcome.EXIT_KEY)
        _done(s, e)
        apply_events(s, [tw.exited(now, uniqueid, e.queue, outcome, e.leave_key, wait_s)])
        return e
    if queue_result in ("hangup", "error", "system-shutdown", "queue-full") \
            and e.state in (WAITING, LEAVING):
        _done(s, e)
        if queue_result == "hangup":
            apply_events(s, [tw.abandoned(now, uniqueid, e.queue, e.position, wait_s)])
        else:
            apply_events(s, [tw.exited(now, uniqueid, e.queue, CallOutcome.DROPPED, None,
                                       wait_s)])
        return e
    return None


def _done(s: Session, e: TwilioEntry) -> None:
    e.state = DONE
    s.flush()


def open_entries(s: Session) -> list[TwilioEntry]:
    """Callers the ACD has not seen the end of (waiting, ringing, connected, leaving)."""
    return list(s.scalars(select(TwilioEntry).where(TwilioEntry.state != DONE)
                          .order_by(TwilioEntry.entered_at, TwilioEntry.id)))


def back_in_line(s: Session, uniqueid: str, queue_sid: str, offered_before: datetime,
                 now: datetime) -> bool:
    """Twilio still has the caller in its queue (``queue_sid``): waiting as far as the ACD
    is concerned. An offer older than ``offered_before`` is released (its dequeue never
    happened), a ``<Leave>`` never carried out is undone. True when it changed anything."""
    e = entry(s, uniqueid)
    if e is None or e.state in (DONE, CONNECTED):
        return False
    changed = e.queue_sid != queue_sid
    note_queue_sid(s, e, queue_sid)
    if e.state == OFFERED and e.offered_at is not None and e.offered_at < offered_before:
        release(s, e, now, rang=False)
        changed = True
    elif e.state == LEAVING:
        e.state, e.leave_reason, e.leave_key = WAITING, None, None
        changed = True
    return changed


def waiting(s: Session) -> list[routing.Waiting]:
    """Callers that may be offered now: waiting, and their Twilio queue known."""
    return [routing.Waiting(e.id, e.queue, place(e), frozenset(filter(None,
                                                                      e.tried.split(","))))
            for e in s.scalars(select(TwilioEntry).where(TwilioEntry.state == WAITING,
                                                         TwilioEntry.queue_sid.is_not(None)))]


def offer(s: Session, entry_id: int, agent: str, now: datetime, dequeue_url: str,
          attempts_at: datetime) -> bool:
    """Offer the caller to the agent: both change only from waiting / free (a duplicate
    dispatcher finds them taken), and the dequeue goes into the outbox in the same
    transaction. False when either was taken meanwhile."""
    e = s.get(TwilioEntry, entry_id)
    if e is None or e.queue_sid is None:
        return False
    got = s.execute(update(TwilioEntry).where(TwilioEntry.id == entry_id,
                                              TwilioEntry.state == WAITING)
                    .values(state=OFFERED, agent=agent, offered_at=now,
                            offers=TwilioEntry.offers + 1))
    if not got.rowcount:  # type: ignore[attr-defined]
        return False
    free = s.execute(update(TwilioAgent).where(TwilioAgent.agent == agent,
                                               TwilioAgent.state == AgentState.AVAILABLE,
                                               TwilioAgent.offer_entry.is_(None),
                                               TwilioAgent.on_call.is_(None),
                                               TwilioAgent.consult_entry.is_(None))
                     .values(offer_entry=entry_id))
    if not free.rowcount:  # type: ignore[attr-defined]
        s.rollback()  # the caller's own session holds this offer only (dispatch_jobs)
        return False
    s.expire_all()
    e = s.get(TwilioEntry, entry_id)
    assert e is not None
    s.add(TwilioRequest(kind="dequeue", entry_id=e.id, offer=e.offers,
                        path=f"Queues/{e.queue_sid}/Members/{e.uniqueid}.json",
                        form=json.dumps({"Url": f"{dequeue_url}?o={e.offers}",
                                         "Method": "POST"}),
                        status="pending", next_attempt_at=attempts_at, created_at=now,
                        last_error=""))
    row = s.get(TwilioAgent, agent)
    assert row is not None
    settle(s, row, now)
    return True


def current_offer(s: Session, entry_id: int, offer_no: int) -> TwilioEntry | None:
    """The entry if ``offer_no`` is its live offer (an agent is ringing for it now)."""
    e = s.get(TwilioEntry, entry_id)
    if e is None or e.offers != offer_no or e.state != OFFERED:
        return None
    return e


def release(s: Session, e: TwilioEntry, now: datetime, rang: bool) -> None:
    """The offer ended unanswered: the caller waits again at their place, the agent is free
    (``rang``: it rang their device, so it counts as a ring-no-answer)."""
    agent = e.agent or ""
    if rang and agent:
        e.tried = ",".join(sorted(set(filter(None, e.tried.split(","))) | {agent}))
        ring_s = (now - e.offered_at).total_seconds() if e.offered_at else 0.0
        apply_events(s, [tw.no_answer(now, e.uniqueid, e.queue, agent, ring_s)])
    e.state, e.agent, e.offered_at = WAITING, None, None
    _free_agent(s, agent, e.id, now)


def release_stale(s: Session, now: datetime) -> list[str]:
    """Offers Twilio never reported on (no answer, no Dial action, no end) for
    ``routing.STALE_OFFER_S``: the agent is freed and the caller waits again (if the call is
    gone, its next dequeue is refused and its terminal status ends it). The uniqueids."""
    cutoff = now - timedelta(seconds=routing.STALE_OFFER_S)
    stale = list(s.scalars(select(TwilioEntry).where(TwilioEntry.state == OFFERED,
                                                     TwilioEntry.offered_at < cutoff)))
    for e in stale:
        release(s, e, now, rang=False)
    return [e.uniqueid for e in stale]


def _free_agent(s: Session, agent: str, entry_id: int, now: datetime) -> None:
    row = s.get(TwilioAgent, agent) if agent else None
    if row is not None and row.offer_entry == entry_id:
        row.offer_entry = None
        settle(s, row, now)


def abandon_offered(s: Session, e: TwilioEntry, now: datetime) -> None:
    """The caller hung up while an agent's device rang for them: an abandon."""
    _done(s, e)
    _free_agent(s, e.agent or "", e.id, now)
    apply_events(s, [tw.abandoned(now, e.uniqueid, e.queue, e.position,
                                  routing.whole_s(e.entered_at, now))])


def connect(s: Session, e: TwilioEntry, now: datetime, agent_leg: str | None = None) -> bool:
    """The agent's device answered the offered caller (AgentConnect); ``agent_leg``: the
    CallSid of the agent's call (a hold or consult moves it into a conference)."""
    if e.state != OFFERED or not e.agent:
        return False
    e.state, e.answered_at = CONNECTED, now
    e.agent_leg = (agent_leg or "")[:64] or None
    row = agent_row(s, e.agent)
    row.offer_entry, row.on_call = None, e.uniqueid
    extra: list[Move] = []
    if row.wrapup_call:  # a wrap-up cut short by the next call
        extra.append(WrapupEnded(row.agent, row.wrapup_call,
                                 max(0.0, (now - (row.wrapup_since or now)).total_seconds())))
        row.wrapup_call = row.wrapup_since = row.wrapup_until = None
    ring_s = routing.whole_s(e.offered_at or now, now)
    apply_events(s, [tw.answered(now, e.uniqueid, e.queue, e.agent,
                                 routing.whole_s(e.entered_at, now), ring_s)])
    settle(s, row, now, extra)
    return True


def complete(s: Session, e: TwilioEntry, now: datetime, talk_s: float | None, side: str,
             wrapup_s: int) -> bool:
    """The connected call ended (AgentComplete); the agent goes to wrap-up."""
    if e.state != CONNECTED or not e.agent or e.answered_at is None:
        return False
    _done(s, e)
    talk = routing.whole_s(e.answered_at, now) if talk_s is None else float(talk_s)
    apply_events(s, [tw.completed(now, e.uniqueid, e.queue, e.agent,
                                  routing.whole_s(e.entered_at, e.answered_at), talk, side)],
                 open_hold(e))
    e.held_since = None  # the end closed it (a late participant-unhold adds nothing)
    row = agent_row(s, e.agent)
    if row.on_call == e.uniqueid:
        row.on_call = None
        row.wrapup_call, row.wrapup_since = e.uniqueid, now
        row.wrapup_until = now + timedelta(seconds=wrapup_s)
        settle(s, row, now)
        if wrapup_s <= 0:
            _end_wrapup(s, row, now)
    return True


def open_hold(e: TwilioEntry) -> dict[str, datetime]:
    """The caller's open hold for the recorder (``acd.recorder.apply_events``'s on_hold)."""
    return {e.uniqueid: e.held_since} if e.held_since is not None else {}


def transferred(s: Session, e: TwilioEntry, target: str, now: datetime, wrapup_s: int,
                kind: str = TransferKind.BLIND) -> None:
    """The agent sent the caller on: blind (a redirect) or attended (they left the room)."""
    apply_events(s, [tw.transferred(now, e.uniqueid, target, kind)])
    complete(s, e, now, None, "transfer", wrapup_s)


def room_of(s: Session, uniqueid: str) -> TwilioEntry | None:
    """The newest entry of the call that moved into a room (None: it never did)."""
    return s.scalar(select(TwilioEntry).where(TwilioEntry.uniqueid == uniqueid,
                                              TwilioEntry.room_state != "")
                    .order_by(TwilioEntry.id.desc()).limit(1))


def connected_call(s: Session, agent: str) -> TwilioEntry | None:
    return s.scalar(select(TwilioEntry).where(TwilioEntry.agent == agent,
                                              TwilioEntry.state == CONNECTED))


def hangup_side(s: Session, uniqueid: str) -> str | None:
    """Who ended the newest leg of the call's record (None while it is open)."""
    return s.scalar(select(CallRecord.hangup_side).where(CallRecord.uniqueid == uniqueid)
                    .order_by(CallRecord.leg.desc()).limit(1))


def record_of(s: Session, uniqueid: str) -> CallRecord | None:
    return s.scalar(select(CallRecord).where(CallRecord.uniqueid == uniqueid))


def as_dict(e: TwilioEntry) -> dict[str, Any]:
    return {"uniqueid": e.uniqueid, "queue": e.queue, "state": e.state, "agent": e.agent}


def board(s: Session, queues: list[str]) -> dict[str, Any]:
    """The live board document (``acd.live.LiveBoard.doc``'s shape, without the version)
    from the ACD's tables: who waits where, each agent's state since when."""
    since = {agent: started for agent, started in s.execute(
        select(AgentStateSpan.agent, AgentStateSpan.started_at)
        .where(AgentStateSpan.ended_at.is_(None)))}
    agents = []
    for row in s.scalars(select(TwilioAgent).order_by(TwilioAgent.agent)):
        if row.state == AgentState.LOGGED_OUT:
            continue
        qs = _queues(row)
        started = since.get(row.agent)
        agents.append({"agent": row.agent, "state": row.state, "reason": row.reason,
                       "since": started.isoformat() if started else None,
                       "queues": sorted(qs),
                       "paused_in": sorted(name for name, (p, _) in qs.items() if p),
                       "pause_reason": {name: r for name, (p, r) in qs.items() if p},
                       "call": row.on_call})
    waiting: dict[str, list[dict[str, Any]]] = {name: [] for name in queues}
    for e in s.scalars(select(TwilioEntry).where(TwilioEntry.state.in_((WAITING, OFFERED,
                                                                         LEAVING)))
                       .order_by(TwilioEntry.entered_at, TwilioEntry.id)):
        waiting.setdefault(e.queue, []).append({"uniqueid": e.uniqueid,
                                                "since": e.entered_at.isoformat(),
                                                "position": e.position})
    return {"queues": waiting, "agents": agents}


def publish_board(s: Session, queues: list[str]) -> bool:
    """Publish the board for the wallboard and the agent console when it changed."""
    doc = board(s, queues)
    _, current = live_store.board(s)
    current.pop("version", None)
    if current == doc:
        return False
    live_store.publish(s, doc)
    return True
