"""The worker's erasure of the IVR's personal data: caller ID on IVR calls and callback
requests (``retention_caller_number_days``) and the audio of voicemail
(``retention_voicemail_days``).

Numbers become the same keyed pseudonym as on call records (``foundation.erasure``), so the
IVR's figures (containment, outcomes, callbacks) are untouched; a callback is erased only once
it is over (connected or failed). A voicemail file in Asterisk's spool is removed, then the
row forgets it in the same transaction as the audit row; a run cut between the two leaves a
row whose file is gone, which the next run finishes (removing a missing file is no error). A
file that cannot be removed fails that one message (retried with backoff), never the others.
A Twilio message is kept by Twilio: civic311 forgets its URL and, in the same transaction,
queues the deletion of Twilio's copy (``foundation/twilio_deletions.py``), which is logged as
deleted only once Twilio has said so; with ``twilio_keep_recordings`` Twilio's copy stays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from foundation import twilio_deletions, twilio_rest
from foundation.db import Database, utcnow
from foundation.erasure import (
    PSEUDONYM_PREFIX,
    Erased,
    ErasureAction,
    ErasureKind,
    ErasureRun,
    erase_each,
    held_back,
    is_pseudonym,
    pseudonym,
)
from foundation.jobs import Job
from foundation.settings import Settings
from ivr import voicemail
from ivr.callback.models import CallbackRequest
from ivr.callback.rules import CallbackState
from ivr.models import IvrCall
from telephony.install import Install, locate

MAX_PER_RUN = 50_000
OVER = (CallbackState.CONNECTED.value, CallbackState.FAILED.value)


def _anon(secret: str | None, number: str) -> str:
    return pseudonym(secret, number) if secret else ""


def erase_ivr_numbers(db: Database, secret: str | None, days: int,
                      now: datetime) -> ErasureRun:
    """Pseudonymise the caller ID of IVR calls started ``days`` ago or more."""
    cutoff = now - timedelta(days=days)
    with db.session() as s:
        skip = held_back(s, ErasureKind.CALLER_NUMBER, "ivr_calls", now)
        q = select(IvrCall.id).where(IvrCall.started_at < cutoff,
                                     IvrCall.caller_number.is_not(None),
                                     ~IvrCall.caller_number.startswith(PSEUDONYM_PREFIX))
        ids = [i for i in s.scalars(q.order_by(IvrCall.id).limit(MAX_PER_RUN)) if i not in skip]

    def work(s: Session, row_id: int) -> Erased | None:
        call = s.get(IvrCall, row_id)
        if call is None or not call.caller_number or is_pseudonym(call.caller_number):
            return None
        call.caller_number = _anon(secret, call.caller_number) or None
        return Erased(ErasureAction.ANONYMISED, ["caller_number"], f"caller ID kept {days} days")

    return erase_each(db, ErasureKind.CALLER_NUMBER, "ivr_calls", ids, work, now)


def erase_callback_numbers(db: Database, secret: str | None, days: int,
                           now: datetime) -> ErasureRun:
    """Pseudonymise the number (and empty the dial string) of callbacks that are over and
    were asked for ``days`` ago or more."""
    cutoff = now - timedelta(days=days)
    with db.session() as s:
        skip = held_back(s, ErasureKind.CALLER_NUMBER, "ivr_callbacks", now)
        q = select(CallbackRequest.id).where(
            CallbackRequest.created_at < cutoff, CallbackRequest.state.in_(OVER),
            or_(~CallbackRequest.number.startswith(PSEUDONYM_PREFIX), CallbackRequest.dial != ""))
        ids = [i for i in s.scalars(q.order_by(CallbackRequest.id).limit(MAX_PER_RUN))
               if i not in skip]

    def work(s: Session, row_id: int) -> Erased | None:
        cb = s.get(CallbackRequest, row_id)
        if cb is None:
            return None
        fields = []
        if cb.number and not is_pseudonym(cb.number):
            cb.number = _anon(secret, cb.number)
            fields.append("number")
        if cb.dial:
            cb.dial = ""
            fields.append("dial")
        return Erased(ErasureAction.ANONYMISED, fields,
                      f"callback number kept {days} days") if fields else None

    return erase_each(db, ErasureKind.CALLER_NUMBER, "ivr_callbacks", ids, work, now)


def erase_voicemail(db: Database, spool: Callable[[], Install], days: int,
                    now: datetime, keep_twilio: bool) -> ErasureRun:
    """Remove the messages left ``days`` ago or more (``spool`` is asked only when needed);
    Twilio's copy of a Twilio message is queued for deletion unless ``keep_twilio``."""
    cutoff = now - timedelta(days=days)
    with db.session() as s:
        skip = held_back(s, ErasureKind.VOICEMAIL, "ivr_calls", now)
        ids = [i for i in s.scalars(select(IvrCall.id).where(
            IvrCall.started_at < cutoff, IvrCall.voicemail.is_not(None)).order_by(IvrCall.id))
               if i not in skip]

    def work(s: Session, row_id: int) -> Erased | None:
        call = s.get(IvrCall, row_id)
        if call is None or not call.voicemail:
            return None
        if call.source == "twilio":  # civic311 holds only the URL; Twilio holds the audio
            detail = _forget_twilio_message(s, call, days, now, keep_twilio)
            call.voicemail = None
            return Erased(ErasureAction.ANONYMISED, ["voicemail"], detail)
        name = call.voicemail
        if not voicemail.FILE_NAME.fullmatch(name) or name.startswith("."):
            raise ValueError(f"voicemail name {name!r} is not a file in the spool folder")
        (voicemail.folder(spool()) / name).unlink(missing_ok=True)
        call.voicemail = None
        return Erased(ErasureAction.DELETED, ["voicemail"],
                      f"message kept {days} days; file {name} removed")

    return erase_each(db, ErasureKind.VOICEMAIL, "ivr_calls", ids, work, now)


def _forget_twilio_message(s: Session, call: IvrCall, days: int, now: datetime,
                           keep_twilio: bool) -> str:
    """Queue the deletion of Twilio's copy (in the caller's transaction); what the audit says."""
    if keep_twilio:
        return (f"message kept {days} days; civic311 forgot its URL; Twilio keeps its copy "
                "(twilio_keep_recordings)")
    sid = twilio_rest.recording_sid(call.voicemail or "")
    twilio_deletions.enqueue(s, ErasureKind.VOICEMAIL, "ivr_calls", call.id, sid,
                             f"voicemail kept {days} days", now)
    return (f"message kept {days} days; civic311 forgot its URL; Twilio's copy "
            f"{sid or '(no recording SID in its URL)'} queued for deletion")


def erase(settings: Settings, db: Database, now: datetime) -> dict[str, ErasureRun]:
    found: list[Install] = []

    def spool() -> Install:
        if not found:
            found.append(locate(settings))
        return found[0]

    days, secret = settings.retention_caller_number_days, settings.secret_key
    return {"ivr_calls": erase_ivr_numbers(db, secret, days, now),
            "ivr_callbacks": erase_callback_numbers(db, secret, days, now),
            "voicemail": erase_voicemail(db, spool, settings.retention_voicemail_days, now,
                                         settings.twilio_keep_recordings)}


def jobs(settings: Settings, db: Database) -> list[Job]:
    return [Job("ivr.erasure", lambda: erase(settings, db, utcnow()), 3600)]
