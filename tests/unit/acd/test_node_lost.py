"""The node-lost rule's pieces without a database: which heartbeat is which node's daemon,
the note it leaves (and knows again, so the log's end can replace it), and its setting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from acd import live_store
from acd.cdr import CLOSED_FROM_CDR
from acd.node_lost import is_lost_note, lost_note
from foundation.settings import DEFAULT_NODE, load_settings


@pytest.mark.parametrize("node", [DEFAULT_NODE, "west", "a-1"])
def test_a_daemon_heartbeat_names_its_node(node: str) -> None:
    assert live_store.daemon_node(live_store.daemon_component(node)) == node


@pytest.mark.parametrize("component", ["worker", "daemon@", "daemons@west", "worker~12@host",
                                       "web"])
def test_other_heartbeats_name_no_node(component: str) -> None:
    assert live_store.daemon_node(component) is None


def test_the_note_says_which_node_and_since_when_and_is_known_again() -> None:
    note = lost_note("west", datetime(2026, 12, 3, 14, 0, 5, tzinfo=UTC))
    assert note == "node west silent since 2026-12-03 14:00:05 UTC: closed by the node-lost timeout"
    assert is_lost_note(note)
    for other in (None, "", CLOSED_FROM_CDR, "no agent logged in", "node west is fine"):
        assert not is_lost_note(other)


def test_the_limit_defaults_to_ten_minutes_and_stays_above_the_boards(tmp_path: Path) -> None:
    assert load_settings(data_dir=str(tmp_path)).node_lost_after_s == 600
    assert load_settings(data_dir=str(tmp_path), node_lost_after_s=3600).node_lost_after_s == 3600
    for bad in (0, 30, 119, 8 * 86400):
        with pytest.raises(ValidationError, match="node_lost_after_s"):
            load_settings(data_dir=str(tmp_path), node_lost_after_s=bad)
