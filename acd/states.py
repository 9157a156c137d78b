"""acd's closed vocabularies: call outcomes, agent states, agent command kinds.

Each value is the string stored in the database and shown in JSON, so a member compares
equal to (and serializes as) the bare string it replaces.
"""

from __future__ import annotations

from enum import StrEnum


class CallOutcome(StrEnum):
    """How a queued call ended (``call_records.outcome``; NULL while the call is live)."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TIMEOUT = "timeout"
    EXIT_KEY = "exit_key"
    EXIT_EMPTY = "exit_empty"
    REFUSED = "refused"
    CALLBACK = "callback"
    DROPPED = "dropped"


# an unanswered call that left the queue this way may still be closed as ``callback``
CALLBACK_REPLACES = (CallOutcome.EXIT_KEY, CallOutcome.ABANDONED)


class TransferKind(StrEnum):
    """How an agent transferred a call (``call_records.transfer_kind``)."""

    BLIND = "blind"  # sent on at once (AMI BlindTransfer, SIP REFER without Replaces)
    ATTENDED = "attended"  # the agent spoke to the target first (AMI Atxfer, REFER/Replaces)


class AgentState(StrEnum):
    """What an agent is doing (``agent_state_spans.state``)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAPUP = "wrapup"
    PAUSED = "paused"


class CommandKind(StrEnum):
    """A queue action asked for on the web (``agent_commands.action``)."""

    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    BLIND_TRANSFER = "xfer_blind"  # the agent's current caller to ``target`` (acd.transfer)
    ATTENDED_TRANSFER = "xfer_attended"


class ServiceLevelBasis(StrEnum):
    """Whom service level counts in its denominator (``acd.definitions`` documents each)."""

    ENTERED_QUEUE = "entered_queue"  # every caller who entered a queue, short abandons out
    ANSWERED_ABANDONED = "answered_abandoned"  # answered + abandoned (short ones out)
    ANSWERED = "answered"  # answered calls only


class AbandonBasis(StrEnum):
    """Which unanswered callers the abandon rate counts (``acd.definitions``)."""

    NOT_SERVED = "not_served"  # abandoned, timed out, exit by key, exit empty, dropped
    ABANDONED_ONLY = "abandoned_only"  # callers who hung up while waiting, nothing else
