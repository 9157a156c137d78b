"""Virtual hold: a waiting caller asks to be called back and keeps their place in line (pure).

The caller presses CALLBACK_KEY while queued; a short sub-menu reads their number back and
takes 1 (confirm) or another number and ``#``. From then on a placeholder (a Local channel
originated by the daemon) waits in the same queue at the caller's place; when an agent
answers it, its other half dials the caller back and the two are bridged.

A request moves ``requested -> originating -> waiting -> calling -> connected``; a callback
nobody answers (or a placeholder lost with an Asterisk restart) goes back to ``requested``
until MAX_ATTEMPTS dial attempts have failed (``failed``). The rules live here; the AGI
route (ivr/callback/agi.py), the daemon's runner (ivr/callback/runner.py) and the table
(ivr/callback/models.py CallbackRequest) carry them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class CallbackState(StrEnum):
    """Where a request is (``ivr_callbacks.state``)."""

    REQUESTED = "requested"
    ORIGINATING = "originating"
    WAITING = "waiting"
    CALLING = "calling"
    CONNECTED = "connected"
    FAILED = "failed"


CALLBACK_KEY = "1"
STATES = tuple(CallbackState)
OPEN_STATES = (CallbackState.REQUESTED, CallbackState.ORIGINATING, CallbackState.WAITING,
               CallbackState.CALLING)
MAX_ATTEMPTS = 3
RETRY_DELAY_S = 120.0  # between a callback nobody answered and the next try
ORIGINATE_GRACE_S = 30.0  # an Originate whose placeholder never showed up is re-sent
RING_S = 30  # how long the caller's phone rings on a callback
HOLD_LIMIT_S = 6 * 3600  # the longest a placeholder may wait (the Originate's timeout)
MIN_DIGITS, MAX_DIGITS = 7, 15
CONFIRM_TRIES = 3
TWILIO_DIAL = "twilio"  # the dial string of a request placed through Twilio's REST API

TEXTS = {
    "en": {
        "offer": "To be called back when it is your turn, without losing your place in line, "
                 "press 1 at any time.",
        "read_back": "We will call you back at",
        "confirm": "To confirm, press 1. To use another number, enter it now, then press "
                   "the pound key.",
        "bad_number": "Sorry, that is not a phone number we can call.",
        "booked": "Thank you. You keep your place in line, and we will call you back when it "
                  "is your turn. Goodbye.",
        "not_booked": "Sorry, we could not take your callback request. Please call again. "
                      "Goodbye.",
        "returning": "This is your city's 3 1 1 line returning your call. Please hold for "
                     "the next agent.",
    },
    "es": {
        "offer": "Para que le devolvamos la llamada cuando sea su turno, sin perder su lugar "
                 "en la fila, oprima 1 en cualquier momento.",
        "read_back": "Le devolveremos la llamada al",
        "confirm": "Para confirmar, oprima 1. Para usar otro número, márquelo ahora y luego "
                   "la tecla numeral.",
        "bad_number": "Lo siento, ese no es un número al que podamos llamar.",
        "booked": "Gracias. Conserva su lugar en la fila y le devolveremos la llamada cuando "
                  "sea su turno. Adiós.",
        "not_booked": "Lo siento, no pudimos registrar su solicitud. Por favor llame de nuevo. "
                      "Adiós.",
        "returning": "Le llama la línea 3 1 1 de su ciudad para devolverle la llamada. Por "
                     "favor espere al próximo agente.",
    },
}


def text(language: str, name: str) -> str:
    """A callback prompt in the caller's language (English when there is none)."""
    return TEXTS.get(language, TEXTS["en"])[name]


def dialable(number: str) -> str:
    """A number reduced to what may go into a dial string: digits, one leading +."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return ("+" + digits) if number.strip().startswith("+") and digits else digits


def valid_number(number: str) -> bool:
    """A number we can call back: 7-15 digits (E.164 allows at most 15)."""
    digits = dialable(number).lstrip("+")
    return MIN_DIGITS <= len(digits) <= MAX_DIGITS


@dataclass(frozen=True)
class Offer:
    """Where the confirmation sub-menu is: the number proposed and how often we asked."""

    number: str
    tries: int = 0


@dataclass(frozen=True)
class Confirmed:
    number: str


@dataclass(frozen=True)
class Ask:
    """Read ``offer.number`` back and ask again (``bad``: say the typed one was not valid)."""

    offer: Offer
    bad: bool = False


@dataclass(frozen=True)
class GiveUp:
    pass


def confirm_step(offer: Offer, keys: str) -> Confirmed | Ask | GiveUp:
    """The caller's answer to "we will call you back at N: 1 confirms, or type another
    number and #". A new number is read back and must be confirmed too."""
    if keys == "1" and valid_number(offer.number):
        return Confirmed(dialable(offer.number))
    tries = offer.tries + 1  # every answer but a confirmation counts
    if tries >= CONFIRM_TRIES:
        return GiveUp()
    typed = keys.rstrip("#")
    if valid_number(typed) and (len(typed) > 1 or keys.endswith("#")):
        return Ask(Offer(dialable(typed), tries))
    return Ask(Offer(offer.number, tries), bad=bool(typed) or keys == "1")


def position_in_line(arrival: datetime, waiting: Iterable[datetime]) -> int:
    """The 1-based queue position that keeps a caller's place: behind everyone waiting who
    arrived before them, ahead of everyone who arrived after."""
    return 1 + sum(1 for at in waiting if at < arrival)


def after_attempt(attempts: int, answered: bool,
                  now: datetime) -> tuple[CallbackState, datetime | None]:
    """The state after a dial attempt (``attempts`` counts it) and when to try again."""
    if answered:
        return CallbackState.CONNECTED, None
    if attempts >= MAX_ATTEMPTS:
        return CallbackState.FAILED, None
    return CallbackState.REQUESTED, now + timedelta(seconds=RETRY_DELAY_S)


def carrier_dial(trunk_endpoint: str, to_carrier: str) -> str:
    """A callback out through the carrier trunk (``to_carrier``: the number as the carrier
    takes it, from the trunk's dial policy)."""
    safe_number = dialable(to_carrier)
    endpoint = "".join(ch for ch in trunk_endpoint if ch.isalnum() or ch in "-_")
    return f"PJSIP/{safe_number}@{endpoint}"


def dial_string(endpoint: str, remote: str, number: str) -> str:
    """Where a callback is sent with no carrier trunk to send it through: out through the
    endpoint the call came in on, to the address it came from (a gateway), or to a
    registered softphone's own endpoint."""
    safe_number = dialable(number)
    host = "".join(ch for ch in remote if ch.isalnum() or ch in ".:-[]")
    endpoint = "".join(ch for ch in endpoint if ch.isalnum() or ch in "-_")
    if endpoint and endpoint != "trunk":
        return f"PJSIP/{endpoint}"
    return f"PJSIP/trunk/sip:{safe_number}@{host}"
