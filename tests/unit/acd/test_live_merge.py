"""Several nodes' boards as one live picture (``acd.live.merge_boards``)."""

from __future__ import annotations

from typing import Any

from acd.live import merge_boards


def agent(name: str, state: str, queues: list[str], paused: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"agent": name, "state": state, "reason": "", "since": None, "queues": queues,
            "paused_in": list(paused), "pause_reason": {q: "lunch" for q in paused}, "call": None}


def test_an_agent_on_two_nodes_is_one_agent_on_the_call_where_it_is():
    boards = {"main": {"queues": {}, "agents": [agent("100", "available", ["citywide"])]},
              "west": {"queues": {}, "agents": [agent("100", "on_call", ["noise"], ("noise",))]}}
    merged = merge_boards(boards, {"main": True, "west": True}, {})
    (one,) = merged["agents"]
    assert (one["state"], one["node"]) == ("on_call", "west")
    assert one["queues"] == ["citywide", "noise"] and one["paused_in"] == ["noise"]


def test_a_node_that_is_down_adds_nothing_but_is_named():
    boards = {"main": {"queues": {"citywide": []}, "agents": []},
              "west": {"queues": {"citywide": [{"uniqueid": "w-1", "since": "t",
                                                "position": 1}]},
                       "agents": [agent("101", "available", ["citywide"])]}}
    merged = merge_boards(boards, {"main": True, "west": False}, {"west": "10:00"})
    assert merged["queues"] == {"citywide": []} and merged["agents"] == []
    assert merged["nodes"] == [{"node": "main", "up": True, "updated_at": None},
                               {"node": "west", "up": False, "updated_at": "10:00"}]
