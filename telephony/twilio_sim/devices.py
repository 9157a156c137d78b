"""Which agents' devices have a call in the simulator: Twilio rings a Client identity (or an
agent's number) however many calls it already has, so only the ACD can keep an agent from
being rung twice; the simulator notes each time it happens (``Rooms.double_booked``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from telephony.twilio_sim.calls import Call, Leg


def busy(agent: str, calls: Iterable[Call], room_legs: Iterable[Leg | None],
         target_rings: Mapping[str, str]) -> bool:
    """The agent's device has a call: a queue call's leg (ringing or talking), a leg in a
    room that is not over (``room_legs``: the consulting agent's, a consult's target), a
    consult ringing."""
    return (any(c.leg is not None and c.leg.agent is not None and c.ended is None
                and c.leg.agent.agent == agent for c in calls)
            or any(leg is not None and leg.agent is not None and leg.agent.agent == agent
                   for leg in room_legs)
            or agent in target_rings.values())
