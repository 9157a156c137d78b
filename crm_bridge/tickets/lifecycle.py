"""Ticket lifecycle (pure): states, guarded transitions, closure and reopen rules.

Closed means closed: a ticket closes only with a reason and a resolution comment, never
while another agency's child ticket is still open, and reopens only within the window.
Errors carry a machine-readable ``code``; the web layer maps them to pages and HTTP codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from crm_bridge.tickets.errors import CrmError


class State(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    CLOSED = "closed"
    REOPENED = "reopened"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    START = "start"
    HOLD = "hold"
    RESUME = "resume"
    CLOSE = "close"
    REOPEN = "reopen"


class ClosureReason(StrEnum):
    RESOLVED = "resolved"
    DUPLICATE = "duplicate"
    NO_ACTION_NEEDED = "no_action_needed"
    REFERRED = "referred"
    NOT_JURISDICTION = "not_jurisdiction"
    UNABLE_TO_RESOLVE = "unable_to_resolve"
    CANCELLED = "cancelled"


class LinkKind(StrEnum):
    DUPLICATE = "duplicate"  # same problem reported again; closes with its parent
    CHILD = "child"  # work another agency must do; the parent waits for it


OPEN_STATES = frozenset(State) - {State.CLOSED}

TRANSITIONS: dict[Action, tuple[frozenset[State], State]] = {
    Action.ACKNOWLEDGE: (frozenset({State.NEW, State.REOPENED}), State.ACKNOWLEDGED),
    Action.ASSIGN: (OPEN_STATES, State.ASSIGNED),
    Action.START: (
        frozenset({State.NEW, State.ACKNOWLEDGED, State.ASSIGNED, State.REOPENED}),
        State.IN_PROGRESS,
    ),
    Action.HOLD: (
        frozenset({State.ACKNOWLEDGED, State.ASSIGNED, State.IN_PROGRESS, State.REOPENED}),
        State.ON_HOLD,
    ),
    Action.RESUME: (frozenset({State.ON_HOLD}), State.IN_PROGRESS),
    Action.CLOSE: (OPEN_STATES, State.CLOSED),
    Action.REOPEN: (frozenset({State.CLOSED}), State.REOPENED),
}

PLAIN = {
    State.NEW: "received",
    State.ACKNOWLEDGED: "acknowledged",
    State.ASSIGNED: "assigned",
    State.IN_PROGRESS: "in progress",
    State.ON_HOLD: "on hold",
    State.CLOSED: "closed",
    State.REOPENED: "reopened",
}

MIN_RESOLUTION_CHARS = 5


class LifecycleError(CrmError):
    """A change the lifecycle rules refuse; ``code`` is a stable machine-readable id."""


def is_open(state: State) -> bool:
    return state is not State.CLOSED


def open_closed(state: State) -> str:
    """The only two values Open311 allows on the wire."""
    return "open" if is_open(state) else "closed"


def plain(state: State) -> str:
    """Plain words for a resident (IVR, email, status page)."""
    return PLAIN[state]


def next_state(state: State, action: Action) -> State:
    """The state after ``action``, or LifecycleError('bad_transition')."""
    allowed, target = TRANSITIONS[action]
    if state not in allowed:
        raise LifecycleError("bad_transition",
                             f"cannot {action.value} a ticket that is {plain(state)}")
    return target


def allowed_actions(state: State) -> list[Action]:
    """Actions offered on a ticket page for its current state (close and reopen included)."""
    return [a for a, (src, _) in TRANSITIONS.items() if state in src]


def check_close(state: State, reason: str | None, comment: str | None, *,
                open_children: int = 0, has_parent: bool = False,
                min_chars: int = MIN_RESOLUTION_CHARS) -> ClosureReason:
    """Guard a closure; returns the parsed reason."""
    next_state(state, Action.CLOSE)
    if not reason:
        raise LifecycleError("reason_required", "choose a closure reason")
    try:
        parsed = ClosureReason(reason)
    except ValueError:
        raise LifecycleError("reason_unknown", f"unknown closure reason {reason!r}") from None
    if len((comment or "").strip()) < min_chars:
        raise LifecycleError("comment_required",
                             f"a resolution comment of at least {min_chars} characters is required")
    if parsed is ClosureReason.DUPLICATE and not has_parent:
        raise LifecycleError("duplicate_needs_parent",
                             "link the ticket to the one it duplicates before closing it as such")
    if open_children:
        raise LifecycleError("open_children",
                             f"{open_children} linked ticket(s) of other agencies are still open")
    return parsed


def check_reopen(state: State, closed_at: datetime | None, now: datetime,
                 window_days: float, *, override: bool = False) -> None:
    """Guard a reopen: only closed tickets, only within ``window_days`` unless overridden."""
    next_state(state, Action.REOPEN)
    if override:
        return
    if closed_at is None or now - closed_at > timedelta(days=window_days):
        raise LifecycleError("reopen_window_passed",
                             f"tickets can be reopened only within {window_days:g} days of closure")


def check_link(child_id: int, child_state: State, parent_id: int, parent_state: State,
               parent_parent_id: int | None, kind: LinkKind,
               child_agency: str, parent_agency: str) -> None:
    """Guard linking ``child`` under ``parent`` (as a duplicate, or as another agency's work)."""
    if child_id == parent_id:
        raise LifecycleError("self_link", "a ticket cannot be linked to itself")
    if parent_parent_id is not None:
        raise LifecycleError("link_chain", "link to the original ticket, not to a linked one")
    if not is_open(child_state) or not is_open(parent_state):
        raise LifecycleError("link_closed", "both tickets must be open to link them")
    if kind is LinkKind.CHILD and child_agency == parent_agency:
        raise LifecycleError("child_same_agency",
                             "a child ticket is work for another agency; use a duplicate link")


def check_transfer(state: State, from_agency: str, to_agency: str) -> None:
    """Guard a transfer between agencies."""
    if not is_open(state):
        raise LifecycleError("transfer_closed", "a closed ticket cannot be transferred")
    if from_agency == to_agency:
        raise LifecycleError("transfer_same", "the ticket is already with that agency")


def cascade_targets(children: Iterable[tuple[int, State, LinkKind]]) -> list[int]:
    """Ids of a closing parent's children that close with it: its open duplicates."""
    return [cid for cid, st, kind in children if kind is LinkKind.DUPLICATE and is_open(st)]
