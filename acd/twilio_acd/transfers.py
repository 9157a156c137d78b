"""Transfers on the Twilio ACD: the desktop's transfer (the same agent command as on
Asterisk, ``acd.live_store.request_transfer``) becomes a REST update of the caller's call,
redirecting it to ``/twilio/acd/transfer`` (a queue, another agent's device or a referral
number), and the records follow QueueMetrics' rules as on Asterisk (``acd/transfer.py``):
the queued call's talk ends at the transfer (hang-up side ``transfer``, the target named
``queue-<name>``, ``agent-<ext>`` or ``ref-<number>``), and a caller transferred into a
queue enters it as a new queued call of the same CallSid (the record's next leg, IVR path
``transfer``). Attended transfers are consults in a conference: ``conference``.
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from acd import live_store
from acd import transfer as names
from acd import twilio_events as tw
from acd.recorder import apply_events
from acd.states import CallOutcome, CommandKind
from acd.twilio_acd import queries as q
from acd.twilio_acd import routing
from acd.twilio_acd.models import TwilioEntry, TwilioRequest

TRANSFER_PATH = "/twilio/acd/transfer"
IVR_PATH = "transfer"  # the IVR path of a transferred caller's new entry (as on Asterisk)


def target_query(exten: str) -> dict[str, str]:
    """The transfer TwiML's query for a ``civic311-transfer`` extension (``acd.transfer``):
    ``queue``, ``agent`` or ``number`` (a referral: E.164, so ``+`` and its digits)."""
    kind, _, value = exten.partition("-")
    if kind == "queue" and value:
        return {"queue": value}
    if kind == "agent" and value.isdigit():
        return {"agent": value}
    if exten.startswith(names.REFERRAL_PREFIX) and value.isdigit() and len(value) >= 8:
        return {"number": "+" + value}
    raise live_store.CommandError(f"{exten!r} cannot be reached on Twilio (an E.164 number, "
                                  f"a queue or an agent)")


def request(s: Session, agent: str, action: str, exten: str, base: str, now: datetime,
            wrapup_s: int) -> tuple[str, str]:
    """Carry out ``agent``'s transfer of their current caller to ``exten``: the redirect goes
    into the REST outbox and the queued call ends here as transferred. (detail, uniqueid);
    CommandError when there is nothing to transfer or the target cannot be reached."""
    if action == CommandKind.ATTENDED_TRANSFER:
        raise live_store.CommandError("an attended transfer is a consult in a conference "
                                      "(acd.twilio_acd.conference.consult)")
    query = target_query(exten)
    e = q.connected_call(s, agent)
    if e is None:
        raise live_store.CommandError(f"agent {agent} has no call to transfer")
    query["from"] = str(e.id)
    s.add(TwilioRequest(kind="redirect", entry_id=None, offer=0, path=f"Calls/{e.uniqueid}.json",
                        form=json.dumps({"Url": f"{base}{TRANSFER_PATH}?{urlencode(query)}",
                                         "Method": "POST"}),
                        status="pending", next_attempt_at=now, created_at=now, last_error=""))
    q.transferred(s, e, exten, now, wrapup_s)
    return f"transferred to {exten}", e.uniqueid


def enter(s: Session, uniqueid: str, queue: str, from_entry: int, caller_number: str | None,
          now: datetime) -> int | None:
    """The transferred caller reaches ``queue`` (Twilio runs our transfer TwiML): a new entry,
    its position, or None when refused (nobody to take it, as at the first join). A repeat
    (Twilio retried the request, or fetched it again later) changes nothing."""
    latest = q.entry(s, uniqueid)
    if latest is None:
        return None
    if latest.id != from_entry:  # this transfer's entry was made already
        return None if latest.leave_reason == CallOutcome.REFUSED else latest.position
    logged, unpaused, _ = q.staffing(s, queue)
    if routing.refuse_at_join(logged, unpaused):
        s.add(TwilioEntry(uniqueid=uniqueid, queue=queue, caller_number=caller_number,
                          entered_at=now, position=0, state=q.DONE,
                          leave_reason=CallOutcome.REFUSED))
        apply_events(s, [tw.refused(now, uniqueid, queue, caller_number, IVR_PATH)])
        return None
    row = TwilioEntry(uniqueid=uniqueid, queue=queue, caller_number=caller_number,
                      entered_at=now, state=q.WAITING)
    s.add(row)
    s.flush()
    row.position = q.ahead_of(s, row) + 1
    apply_events(s, tw.joined(now, uniqueid, queue, row.position, caller_number, IVR_PATH))
    return row.position
