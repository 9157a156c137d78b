from datetime import UTC, datetime, timedelta

import pytest

from crm_bridge.tickets.lifecycle import (
    Action,
    LifecycleError,
    LinkKind,
    State,
    allowed_actions,
    cascade_targets,
    check_close,
    check_link,
    check_reopen,
    check_transfer,
    next_state,
    open_closed,
    plain,
)

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def code(fn, *a, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(LifecycleError) as exc:
        fn(*a, **kw)
    return exc.value.code


def test_happy_path() -> None:
    s = State.NEW
    for action in (Action.ACKNOWLEDGE, Action.ASSIGN, Action.START, Action.HOLD, Action.RESUME,
                   Action.CLOSE, Action.REOPEN):
        s = next_state(s, action)
    assert s is State.REOPENED


def test_bad_transitions() -> None:
    assert code(next_state, State.CLOSED, Action.START) == "bad_transition"
    assert code(next_state, State.NEW, Action.RESUME) == "bad_transition"
    assert code(next_state, State.IN_PROGRESS, Action.REOPEN) == "bad_transition"
    assert Action.REOPEN in allowed_actions(State.CLOSED)
    assert allowed_actions(State.CLOSED) == [Action.REOPEN]


def test_close_guards() -> None:
    assert code(check_close, State.IN_PROGRESS, "resolved", "") == "comment_required"
    assert code(check_close, State.IN_PROGRESS, "resolved", "   ok ") == "comment_required"
    assert code(check_close, State.IN_PROGRESS, None, "fixed it") == "reason_required"
    assert code(check_close, State.IN_PROGRESS, "whatever", "fixed it") == "reason_unknown"
    assert code(check_close, State.IN_PROGRESS, "duplicate", "same pothole") == \
        "duplicate_needs_parent"
    assert code(check_close, State.IN_PROGRESS, "resolved", "patched hole",
                open_children=1) == "open_children"
    assert code(check_close, State.CLOSED, "resolved", "patched hole") == "bad_transition"
    assert check_close(State.NEW, "resolved", "patched hole") == "resolved"


def test_reopen_window() -> None:
    closed = NOW - timedelta(days=10)
    check_reopen(State.CLOSED, closed, NOW, 14)
    assert code(check_reopen, State.CLOSED, closed, NOW, 7) == "reopen_window_passed"
    check_reopen(State.CLOSED, closed, NOW, 7, override=True)
    assert code(check_reopen, State.ASSIGNED, closed, NOW, 7) == "bad_transition"


def test_link_and_transfer_guards() -> None:
    ok = dict(child_agency="DOT", parent_agency="DOT")
    assert code(check_link, 1, State.NEW, 1, State.NEW, None, LinkKind.DUPLICATE, **ok) == \
        "self_link"
    assert code(check_link, 1, State.NEW, 2, State.NEW, 3, LinkKind.DUPLICATE, **ok) == \
        "link_chain"
    assert code(check_link, 1, State.NEW, 2, State.CLOSED, None, LinkKind.DUPLICATE, **ok) == \
        "link_closed"
    assert code(check_link, 1, State.NEW, 2, State.NEW, None, LinkKind.CHILD, **ok) == \
        "child_same_agency"
    check_link(1, State.NEW, 2, State.NEW, None, LinkKind.CHILD, child_agency="DEP",
               parent_agency="DOT")
    assert code(check_transfer, State.CLOSED, "DOT", "DEP") == "transfer_closed"
    assert code(check_transfer, State.NEW, "DOT", "DOT") == "transfer_same"


def test_cascade_only_open_duplicates() -> None:
    kids = [(1, State.NEW, LinkKind.DUPLICATE), (2, State.CLOSED, LinkKind.DUPLICATE),
            (3, State.NEW, LinkKind.CHILD)]
    assert cascade_targets(kids) == [1]


def test_wire_and_plain_words() -> None:
    assert open_closed(State.ON_HOLD) == "open"
    assert open_closed(State.CLOSED) == "closed"
    assert plain(State.IN_PROGRESS) == "in progress"
